/** What a turn reports to the game: the result of a turn, and why one failed. */
import { isGlmError } from '../glm/errors.ts'
import type { Usage } from '../glm/types.ts'
import { ProviderFailure } from '../providers/types.ts'
import type { ActionRecord } from '../actions/types.ts'

/** The states a game can show; the machine's own state names. */
export type ConversationStateName = 'awaiting' | 'preparing' | 'requesting' | 'streaming' | 'retrying' | 'acting' | 'ended'

/** Why a turn failed, for the game (never shown to the player: they get the fallback line). */
export interface TurnFailure {
  /** GLM client kinds (http, network, timeout, stream_interrupted, ...) or provider kinds (sensitive, empty_reply, action_loop, ...). */
  code: string
  message: string
  glmCode?: string | undefined
  status?: number | undefined
  retryable: boolean
}

export interface TurnResult {
  /** What the NPC says: the model's reply, or an authored line. */
  text: string
  kind: 'reply' | 'nudge' | 'farewell' | 'fallback'
  /** The state the conversation was in once this turn was done (a queued line may already be under way). */
  state: ConversationStateName
  /** Secrets unlocked by this turn, each reported once. */
  unlocked: string[]
  error?: TurnFailure | undefined
  finishReason?: string | undefined
  usage?: Usage | undefined
  requestId?: string | undefined
  /** Actions the model asked for this turn, and what became of each. */
  actions?: ActionRecord[] | undefined
  /** The prompt did not fit the model's context window; this reply came from a retry with the history window halved. */
  contextTrimmed?: boolean | undefined
  /** Embeddings failed or were slower than the budget: the lore of this turn was chosen by BM25 alone. */
  loreFallback?: { reason: 'embeddings_failed' | 'embeddings_slow'; message: string } | undefined
}

/** A turn's result as the machine emits it; the conversation adds the state it is then in. */
export type TurnOutcome = Omit<TurnResult, 'state'>

export function describeFailure(error: unknown): TurnFailure {
  if (isGlmError(error)) {
    return { code: error.kind, message: error.message, glmCode: error.glmCode, status: error.status, retryable: error.retryable }
  }
  if (error instanceof ProviderFailure) return { code: error.kind, message: error.message, retryable: false }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'provider_error', message, retryable: false }
}
