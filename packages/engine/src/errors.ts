/**
 * The one error hierarchy: every error Parley throws on purpose is a `ParleyError` with a stable
 * `code`, so a game can branch on `error.code` without parsing messages. Subclasses (ContentError,
 * GlmError, ProviderFailure, StoreUnavailableError) add what their callers need.
 */
export type ParleyErrorCode =
  | 'content_invalid'
  | 'unknown_item'
  | 'unknown_flag'
  | 'unknown_var'
  | 'invalid_var'
  | 'invalid_argument'
  | 'line_too_long'
  | 'conversation_ended'
  | 'aborted'
  | 'snapshot_invalid'
  | 'snapshot_wrong_npc'
  | 'provider_failed'
  | 'glm_failed'
  | 'invalid_api_key'
  | 'store_unavailable'
  | 'record_invalid'

export class ParleyError extends Error {
  override name = 'ParleyError'
  readonly code: ParleyErrorCode
  constructor(code: ParleyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Every code, for guards and for tests that prove each is thrown somewhere. */
export const PARLEY_ERROR_CODES: readonly ParleyErrorCode[] = [
  'content_invalid', 'unknown_item', 'unknown_flag', 'unknown_var', 'invalid_var', 'invalid_argument', 'line_too_long', 'conversation_ended', 'aborted',
  'snapshot_invalid', 'snapshot_wrong_npc', 'provider_failed', 'glm_failed', 'invalid_api_key', 'store_unavailable', 'record_invalid',
]

const CODES: ReadonlySet<string> = new Set(PARLEY_ERROR_CODES)

/** Works across realms and duplicated bundles, where `instanceof` does not: any error carrying one of our codes. */
export function isParleyError(error: unknown): error is ParleyError {
  if (error instanceof ParleyError) return true
  if (!(error instanceof Error)) return false
  const code: unknown = (error as Error & { code?: unknown }).code
  return typeof code === 'string' && CODES.has(code)
}
