/**
 * @module @parley/engine: NPC dialogue on Zhipu's GLM chat API. Runs in browsers and Node.
 * What a game uses, and only that: load an NPC, talk, save and restore, providers, the GLM
 * client, errors and their types. File loading is in `@parley/engine/node`, the web handler in
 * `@parley/engine/http`, Redis in `@parley/engine/redis`; the building blocks behind these are
 * in `@parley/engine/unstable`, which may change in any release.
 */
export { parseNpc } from './content/parse.ts'
export type { ParseOptions } from './content/parse.ts'
export { createConversation, restoreConversation, Conversation } from './conversation/conversation.ts'
export { glmProvider } from './providers/glm.ts'
export { scriptedProvider } from './providers/scripted.ts'
export { GlmClient, createGlmClient } from './glm/client.ts'
export { MemoryConversationStore } from './store/memory.ts'
export { MemoryKeeper, finishedFrom } from './memory/keeper.ts'
export { ParleyError, isParleyError } from './errors.ts'
export { ContentError } from './content/issues.ts'
export { GlmError } from './glm/errors.ts'
export { ProviderFailure } from './providers/types.ts'
export { StoreUnavailableError } from './store/types.ts'

export type { ParleyErrorCode } from './errors.ts'
export type { Npc, Secret } from './content/schema.ts'
export type { ContentIssue, ContentIssueCode } from './content/issues.ts'
export type { Condition } from './conditions/types.ts'
export type { ConversationOptions, ConversationEvents, TurnOptions, TurnStream, SecretStatus } from './conversation/conversation.ts'
export type { TurnResult, TurnFailure, ConversationStateName } from './conversation/results.ts'
export type { ConversationEmitted } from './conversation/machine.ts'
export type { ConversationSnapshot } from './conversation/snapshot.ts'
export type { ActionCall, ActionOutcome, ActionRecord, ActionSettings } from './actions/types.ts'
export type { Provider, ProviderTurn, ProviderReply, ProviderFailureCode, ModelSettings, SummaryRequest, SummaryResult } from './providers/types.ts'
export type { GlmProviderOptions } from './providers/glm.ts'
export type { ScriptedProviderOptions } from './providers/scripted.ts'
export type { GlmClientOptions, CallOptions, RetryInfo } from './glm/client.ts'
export type { GlmErrorKind } from './glm/errors.ts'
export type { GlmMessage, ChatRequest, ChatCompletion, ChatStreamEvent, Usage } from './glm/types.ts'
export type { HistoryEntry } from './prompt/history.ts'
export type { EmbeddingOptions, EmbeddingCache } from './lore/embeddings.ts'
export type { ConversationStore, StoredConversation, RecordKey, StoredRecord, RecordTtl } from './store/types.ts'
export type { MemoryKeeperOptions, MemoryErrorContext, RememberOptions, RememberedConversation } from './memory/keeper.ts'
export type { MemoryLimits } from './memory/limits.ts'
export type { Memory, MemoryRecord, PendingMemory } from './memory/record.ts'
export type { FinishedConversation } from './memory/write.ts'
