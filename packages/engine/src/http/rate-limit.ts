/** A token bucket per client: `limit` requests per `windowMs`, refilled smoothly. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  readonly #limit: number
  readonly #windowMs: number
  readonly #now: () => number
  constructor(limit: number, windowMs: number, now: () => number) {
    this.#limit = limit
    this.#windowMs = windowMs
    this.#now = now
  }

  #refill(key: string) {
    const t = this.#now()
    const b = this.#buckets.get(key) ?? { tokens: this.#limit, at: t }
    b.tokens = Math.min(this.#limit, b.tokens + ((t - b.at) * this.#limit) / this.#windowMs)
    b.at = t
    this.#buckets.set(key, b)
    return b
  }

  take(key: string): boolean {
    const b = this.#refill(key)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  retryAfterSeconds(key: string): number {
    const b = this.#refill(key)
    return Math.max(1, Math.ceil(((1 - b.tokens) * this.#windowMs) / this.#limit / 1000))
  }

  /** Buckets held: each is a key seen within the last window. */
  get size(): number {
    return this.#buckets.size
  }

  sweep() {
    const t = this.#now()
    for (const [k, b] of this.#buckets) if (t - b.at > this.#windowMs) this.#buckets.delete(k)
  }
}
