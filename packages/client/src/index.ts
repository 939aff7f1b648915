/** @module @parley/client: Parley's HTTP API, typed, for browsers and Node. */
export { ParleyClient, createParleyClient } from './client.ts'
export type { CallOptions, ParleyClientOptions, StreamEvent } from './client.ts'
export { ParleyError, isParleyError } from './error.ts'
export type { ParleyErrorCode } from './error.ts'
export type { RetryOptions } from './retry.ts'
export type { Changed, ConversationStatus, ConversationView, CreatedConversation, ErrorCode, InspectorView, NpcList, PlayerToken, PlayerView, SignedSaveBody, Turn } from '@parley/engine/http'
