/**
 * When a call is tried again. Every state-changing call carries one Idempotency-Key for all its
 * attempts, so the server answers a repeat with the first answer: retrying is then safe after a
 * timeout or a dropped connection (the first attempt may have run), a 409 `conflict` (another
 * server held the conversation), a 503 or a 429 (after the Retry-After the server asked for).
 */
import { ParleyError } from './error.ts'

export interface RetryOptions {
  /** Attempts in all, the first included. Default 4. */
  attempts?: number
  /** First backoff; doubles per attempt, with jitter. Default 200 ms. */
  baseDelayMs?: number
  /** No wait is longer, a Retry-After included (a longer one fails the call). Default 10 s. */
  maxDelayMs?: number
}

export function shouldRetry(error: ParleyError): boolean {
  if (error.code === 'aborted') return false
  if (error.status === 0) return true
  if (error.status === 409) return error.code === 'conflict'
  return error.status === 503 || error.status === 429 || error.status === 502 || error.status === 504
}

/** How long to wait before attempt `attempt + 1`, or undefined to give up. */
export function delayBefore(error: ParleyError, attempt: number, o: Required<RetryOptions>): number | undefined {
  if (attempt >= o.attempts || !shouldRetry(error)) return undefined
  if (error.retryAfterMs !== undefined) return error.retryAfterMs <= o.maxDelayMs ? error.retryAfterMs : undefined
  const backoff = o.baseDelayMs * 2 ** (attempt - 1)
  return Math.min(o.maxDelayMs, backoff / 2 + Math.random() * (backoff / 2))
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal))
    const timer = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms)
    const onAbort = () => (clearTimeout(timer), reject(aborted(signal!)))
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export function aborted(signal: AbortSignal): ParleyError {
  return new ParleyError(0, 'aborted', 'the call was aborted', undefined, { cause: signal.reason })
}
