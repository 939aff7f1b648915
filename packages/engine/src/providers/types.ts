import { ParleyError } from '../errors.ts'
import type { GlmMessage, GlmToolCall, Usage } from '../glm/types.ts'
import type { GlmTool } from '../actions/tools.ts'
import type { RetryInfo } from '../glm/client.ts'
import type { HistoryEntry } from '../prompt/history.ts'

export interface ModelSettings {
  name: string
  temperature?: number | undefined
  top_p?: number | undefined
  max_tokens?: number | undefined
  thinking?: boolean | undefined
}

/** A secret that unlocked since the NPC last spoke: only ever an unlocked one. */
export interface Revealed {
  id: string
  fact: string
  reveal?: string | undefined
}

/** Scripted lines whose `when` holds now, already filtered by the engine. */
export interface ScriptView {
  replies: ReadonlyArray<{ keywords?: readonly string[] | undefined; say: string; action?: { name: string; arguments: Record<string, unknown> } | undefined }>
  default?: string | undefined
}

/**
 * Everything a provider gets for one turn. Nothing here is derived from a locked secret: the
 * engine builds it from unlocked state only, so no provider can repeat what it was never given.
 */
export interface ProviderTurn {
  messages: GlmMessage[]
  model: ModelSettings
  playerLine: string
  script: ScriptView
  revealed: readonly Revealed[]
  /** The actions offered this call, as GLM tools; empty when none (or the turn's cap is reached). */
  tools: readonly GlmTool[]
  signal: AbortSignal
  onRetry?: ((info: RetryInfo) => void) | undefined
  /** The player, as the game names them (6–128 characters): GLM's `user_id`, so a content-safety lockout hits that player, not the studio. */
  userId?: string | undefined
}

export interface ProviderReply {
  text: string
  /** The model chose to act: the engine validates these and asks the game before anything happens. */
  toolCalls?: GlmToolCall[] | undefined
  /**
   * A thinking model's reasoning behind `toolCalls`: sent back with the tool results within the
   * turn (GLM's docs ask for it), never spoken, never kept in history.
   */
  reasoning?: string | undefined
  finishReason?: string | undefined
  usage?: Usage | undefined
  requestId?: string | undefined
}

/**
 * A stretch of one conversation to condense, from the NPC's point of view. Built by the engine
 * from what was said (history entries) and earlier summaries only: a locked secret's fact is
 * never in it, because it was never in any request either.
 */
export interface SummaryRequest {
  /**
   * `history`: fold the oldest exchanges into the conversation's running summary. `memory`: what
   * the NPC keeps of a whole conversation once it ends, for its next one with the same player.
   */
  purpose: 'history' | 'memory'
  npc: { readonly id: string; readonly name: string }
  /** What was condensed before (the running summary, or the memory being merged); kept in the new one. */
  previous?: string | undefined
  /** The exchanges to fold in, oldest first, whole exchanges only. */
  entries: readonly HistoryEntry[]
  /** The summary's length limit, in the engine's token estimate (`estimateTokens`). */
  maxTokens: number
  model: ModelSettings
  signal: AbortSignal
  userId?: string | undefined
}

export interface SummaryResult {
  text: string
  usage?: Usage | undefined
}

export interface Provider {
  readonly name: string
  /** Answers one turn. With `onDelta` the reply is streamed through it as it arrives. */
  reply(turn: ProviderTurn, onDelta?: (text: string) => void): Promise<ProviderReply>
  /**
   * Condenses a stretch of conversation. Called off the player's critical path; a provider without
   * it leaves history trimmed (oldest exchanges dropped) and writes no memories.
   */
  summarize?(request: SummaryRequest): Promise<SummaryResult>
}

export type ProviderFailureCode = 'sensitive' | 'network_error' | 'length' | 'empty_reply' | 'action_loop' | 'provider_error'

/** The model answered, but not with something the NPC can say. `kind` says how. */
export class ProviderFailure extends ParleyError {
  override name = 'ProviderFailure'
  declare readonly code: 'provider_failed'
  readonly kind: ProviderFailureCode
  readonly partialText: string | undefined
  constructor(kind: ProviderFailureCode, message: string, partialText?: string) {
    super('provider_failed', message)
    this.kind = kind
    this.partialText = partialText
  }
}
