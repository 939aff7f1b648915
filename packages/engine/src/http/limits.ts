/**
 * The per-player and per-address request limits, as one check a route calls before it does any
 * work. The address is checked first, so a flood of new anonymous players from one address is
 * refused before any of them costs a bucket of its own.
 */
import { HttpProblem } from './problem.ts'
import { RateLimiter } from './rate-limit.ts'

export interface LimitSettings {
  /** Turns per player per minute. */
  turnsPerMinute: number
  /** Turns per address per minute (many players may share one address behind a NAT). */
  addressTurnsPerMinute: number
  /** New conversations (started or restored) per player per minute. */
  createsPerMinute: number
  /** New conversations per address per minute. */
  addressCreatesPerMinute: number
}

export class RequestLimits {
  readonly #limiters: Record<'turn' | 'create', { player: RateLimiter; address: RateLimiter }>

  constructor(s: LimitSettings, now: () => number) {
    this.#limiters = {
      turn: { player: new RateLimiter(s.turnsPerMinute, 60_000, now), address: new RateLimiter(s.addressTurnsPerMinute, 60_000, now) },
      create: { player: new RateLimiter(s.createsPerMinute, 60_000, now), address: new RateLimiter(s.addressCreatesPerMinute, 60_000, now) },
    }
  }

  /** Throws 429 with Retry-After when either limit is spent. `undefined` skips that check (the game's own calls). */
  take(kind: 'turn' | 'create', who: { player?: string | undefined; address?: string | undefined }): void {
    const l = this.#limiters[kind]
    for (const [limiter, key] of [[l.address, who.address], [l.player, who.player]] as const) {
      if (key === undefined) continue
      if (!limiter.take(key)) {
        const what = kind === 'create' ? 'too many new conversations' : 'too many requests'
        throw new HttpProblem(429, 'rate_limited', `${what}; slow down`, { 'retry-after': String(limiter.retryAfterSeconds(key)) })
      }
    }
  }

  sweep(): void {
    for (const l of Object.values(this.#limiters)) (l.player.sweep(), l.address.sweep())
  }

  get size(): number {
    return Object.values(this.#limiters).reduce((n, l) => n + l.player.size + l.address.size, 0)
  }
}
