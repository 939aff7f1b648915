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
  /** The prompt does not fit the model's window (HTTP 200 `model_context_window_exceeded`, or 1261): shrink it, never retry it as is. */
  | 'context_exceeded'

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

/**
 * GLM business codes worth another attempt: overload, rate and concurrency limits, transient
 * faults (glm-api.md §4). 1231 ("you already have a request") is not here: the client answers it
 * itself, once, with a fresh request_id (§8: nothing shows GLM de-duplicating by request_id).
 */
const RETRYABLE_CODES = new Set(['500', '1120', '1230', '1234', '1302', '1303', '1305', '1312'])
/** Codes that retrying cannot fix, whatever their HTTP status says (1113 arrives as a 429; 1301 and 1261 as 400). */
const FINAL_CODES = new Set(['1000', '1001', '1002', '1004', '1110', '1111', '1112', '1121', '1113', '1210', '1211', '1212', '1213', '1214', '1215', '1220', '1221', '1222', '1231', '1261', '1300', '1301', '1304', '1308', '1309', '1310', '1311', '1313'])

/** Whether a business code alone says "try again": what a code inside an SSE stream is judged by. */
export function isRetryableCode(glmCode: string | undefined): boolean {
  return glmCode !== undefined && RETRYABLE_CODES.has(glmCode)
}

export function isRetryable(status: number | undefined, glmCode: string | undefined): boolean {
  if (glmCode !== undefined) {
    if (RETRYABLE_CODES.has(glmCode)) return true
    if (FINAL_CODES.has(glmCode)) return false
  }
  if (status === undefined) return true
  return status === 408 || status === 409 || status === 429 || status >= 500
}

/**
 * A prompt too long for the model: GLM's 1261 ("Prompt 超长", §8), OpenAI's
 * `context_length_exceeded`, or vLLM's 400 whose message names the maximum context length.
 */
export function isContextOverflow(status: number | undefined, glmCode: string | undefined, message: string | undefined): boolean {
  if (glmCode === '1261' || glmCode === 'context_length_exceeded') return true
  return status === 400 && !!message && /maximum context length|context window|prompt is too long|exceeds max length/i.test(message)
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
