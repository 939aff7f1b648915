import { isGlmError } from '../glm/errors.ts'
import type { Usage } from '../glm/types.ts'
import { ProviderFailure } from '../providers/types.ts'
import type { ActionRecord } from './turn-runner.ts'

export type ConversationStateName = 'awaiting' | 'thinking' | 'streaming' | 'retrying' | 'acting' | 'ended'

/** Why a turn failed, for the game (never shown to the player: they get the fallback line). */
export interface TurnFailure {
  /** GLM client kinds (http, network, timeout, stream_interrupted, ...) or provider codes (sensitive, empty_reply, ...). */
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
  /** The conversation's state once this turn was done. */
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

export function describeFailure(error: unknown): TurnFailure {
  if (isGlmError(error)) {
    return { code: error.kind, message: error.message, glmCode: error.glmCode, status: error.status, retryable: error.retryable }
  }
  if (error instanceof ProviderFailure) return { code: error.code, message: error.message, retryable: false }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'provider_error', message, retryable: false }
}
