/**
 * Every error Parley throws on purpose is a `ParleyError` with a stable `code`, so a game can
 * branch on `error.code` without parsing messages.
 */
export type ParleyErrorCode =
  | 'content_invalid'
  | 'unknown_item'
  | 'unknown_npc'
  | 'invalid_argument'
  | 'line_too_long'
  | 'conversation_ended'
  | 'aborted'
  | 'snapshot_invalid'
  | 'snapshot_wrong_npc'
  | 'provider_failed'

export class ParleyError extends Error {
  override name = 'ParleyError'
  readonly code: ParleyErrorCode
  constructor(code: ParleyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Works across realms and duplicated bundles, where `instanceof` does not. */
export function isParleyError(error: unknown): error is ParleyError {
  return error instanceof ParleyError || (error instanceof Error && error.name === 'ParleyError' && 'code' in error)
}
