/** Every failure the client reports: the server's status and stable code, or the client's own. */
import type { ErrorCode } from '@parley/engine/http'

/** The server's codes, plus the client's own: the network failed, the call timed out, or the caller aborted it. */
export type ParleyErrorCode = ErrorCode | 'network' | 'timeout' | 'aborted' | 'stream_cut' | 'bad_response' | (string & {})

export class ParleyError extends Error {
  override name = 'ParleyError'
  /** HTTP status, or 0 when no answer came. */
  readonly status: number
  readonly code: ParleyErrorCode
  /** What the server's Retry-After asked, in milliseconds. */
  readonly retryAfterMs: number | undefined
  constructor(status: number, code: ParleyErrorCode, message: string, retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options)
    this.status = status
    this.code = code
    this.retryAfterMs = retryAfterMs
  }
}

export function isParleyError(e: unknown): e is ParleyError {
  return e instanceof ParleyError
}

/** The ParleyError a non-2xx response stands for. */
export async function errorFrom(res: Response): Promise<ParleyError> {
  const retryAfter = retryAfterMs(res.headers.get('retry-after'))
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: unknown; message?: unknown } } | undefined
  const code = typeof body?.error?.code === 'string' ? body.error.code : `http_${res.status}`
  const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${res.status}`
  return new ParleyError(res.status, code, message, retryAfter)
}

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}
