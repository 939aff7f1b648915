import { ParleyError } from '../errors.ts'

export type GlmErrorKind =
  | 'http'
  | 'network'
  | 'timeout'
  | 'aborted'
  | 'stream_interrupted'
  | 'stream_error'
  | 'invalid_request'
  | 'invalid_response'

export interface GlmErrorInit {
  kind: GlmErrorKind
  message: string
  status?: number | undefined
  glmCode?: string | undefined
  requestId?: string | undefined
  retryable?: boolean
  partialText?: string | undefined
  cause?: unknown
}

/**
 * A failed GLM call. `kind` says what went wrong on our side of the wire; `glmCode` is GLM's own
 * business code (a string, e.g. "1113") when the service sent one. Branch on those, not on status:
 * GLM answers 429 for both "slow down" (1302) and "out of money" (1113).
 */
export class GlmError extends ParleyError {
  override name = 'GlmError'
  declare readonly code: 'glm_failed'
  readonly kind: GlmErrorKind
  readonly status: number | undefined
  readonly glmCode: string | undefined
  readonly requestId: string | undefined
  readonly retryable: boolean
  /** Text streamed before the failure, so a caller can decide what to do with it. */
  readonly partialText: string | undefined
  constructor(init: GlmErrorInit) {
    super('glm_failed', init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.kind = init.kind
    this.status = init.status
    this.glmCode = init.glmCode
    this.requestId = init.requestId
    this.retryable = init.retryable ?? false
    this.partialText = init.partialText
  }
}

export function isGlmError(error: unknown): error is GlmError {
  return error instanceof GlmError || (error instanceof Error && error.name === 'GlmError' && 'kind' in error)
}

/** GLM business codes worth another attempt: overload, rate and concurrency limits, transient faults. */
const RETRYABLE_CODES = new Set(['500', '1120', '1230', '1231', '1234', '1302', '1303', '1305', '1312'])
/** Codes that retrying cannot fix, whatever their HTTP status says (1113 arrives as a 429). */
const FINAL_CODES = new Set(['1113', '1304', '1308', '1309', '1310', '1311', '1313'])

export function isRetryable(status: number | undefined, glmCode: string | undefined): boolean {
  if (glmCode !== undefined) {
    if (RETRYABLE_CODES.has(glmCode)) return true
    if (FINAL_CODES.has(glmCode)) return false
  }
  if (status === undefined) return true
  return status === 408 || status === 409 || status === 429 || status >= 500
}

/** Reads GLM's `{error:{code,message}}` and the OpenAI/Ollama variants (`code` null or numeric, `error` a string). */
export function parseErrorBody(text: string): { glmCode?: string; message?: string; requestId?: string } {
  try {
    const body = JSON.parse(text) as { error?: unknown; request_id?: unknown; message?: unknown }
    const requestId = typeof body.request_id === 'string' ? body.request_id : undefined
    const err = body.error
    if (typeof err === 'string') return { message: err, ...(requestId && { requestId }) }
    if (err && typeof err === 'object') {
      const e = err as { code?: unknown; message?: unknown }
      const code = e.code === null || e.code === undefined ? undefined : String(e.code)
      return {
        ...(code !== undefined && { glmCode: code }),
        ...(typeof e.message === 'string' && { message: e.message }),
        ...(requestId && { requestId }),
      }
    }
    if (typeof body.message === 'string') return { message: body.message }
  } catch {
    // not JSON: the caller reports the status alone
  }
  return {}
}
