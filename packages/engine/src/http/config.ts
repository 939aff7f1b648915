/** The handler's numeric settings with their defaults, resolved once and checked. */
import type { LimitSettings } from './limits.ts'

interface NumericOptions {
  maxBodyBytes?: number | undefined
  bodyTimeoutMs?: number | undefined
  idleMs?: number | undefined
  ratePerMinute?: number | undefined
  addressRatePerMinute?: number | undefined
  createPerMinute?: number | undefined
  addressCreatePerMinute?: number | undefined
  maxLiveConversations?: number | undefined
  sweepEveryMs?: number | undefined
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`)
  return v
}

export class HandlerSettings {
  readonly body: { maxBytes: number; timeoutMs: number }
  readonly idleMs: number
  readonly maxLive: number
  readonly sweepEveryMs: number
  readonly limits: LimitSettings

  constructor(o: NumericOptions) {
    this.body = { maxBytes: positive('maxBodyBytes', o.maxBodyBytes, 16 * 1024), timeoutMs: positive('bodyTimeoutMs', o.bodyTimeoutMs, 10_000) }
    this.idleMs = positive('idleMs', o.idleMs, 30 * 60_000)
    this.maxLive = positive('maxLiveConversations', o.maxLiveConversations, 10_000)
    this.sweepEveryMs = positive('sweepEveryMs', o.sweepEveryMs, 60_000)
    this.limits = {
      turnsPerMinute: positive('ratePerMinute', o.ratePerMinute, 60),
      addressTurnsPerMinute: positive('addressRatePerMinute', o.addressRatePerMinute, 600),
      createsPerMinute: positive('createPerMinute', o.createPerMinute, 10),
      addressCreatesPerMinute: positive('addressCreatePerMinute', o.addressCreatePerMinute, 30),
    }
  }
}
