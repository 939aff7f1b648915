import { defaultRecordTtl, type ConversationStore, type RecordKey, type RecordTtl, type StoredConversation, type StoredRecord } from './types.ts'

export interface MemoryStoreOptions {
  /** Conversations untouched this long are dropped. Default 30 minutes. */
  ttlMs?: number
  now?: () => number
  /** How often expired entries are swept out. Default one minute; 0 turns the timer off. */
  sweepEveryMs?: number
  /** How long a memory record lives after each write. Default: an anonymous browser's (`c:`) as long as its cookie, others until deleted. */
  recordTtlMs?: RecordTtl
}

/**
 * The embedded default: one process, conversations dropped after `ttlMs` without use. Expired
 * entries leave on a timer (unref'd, so it never keeps a process alive; `close()` stops it), not
 * only when read again, so a flood of conversations nobody returns to gives its memory back.
 */
export class MemoryConversationStore implements ConversationStore {
  readonly #entries = new Map<string, { json: string; owner: string; version: number; expires: number }>()
  /** Records by player, then by NPC: kept until deleted, or until `expires` (anonymous players'). */
  readonly #records = new Map<string, Map<string, { json: string; version: number; expires: number }>>()
  readonly #recordTtl: RecordTtl
  readonly #ttlMs: number
  readonly #now: () => number
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(options: MemoryStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 30 * 60_000
    this.#now = options.now ?? Date.now
    this.#recordTtl = options.recordTtlMs ?? defaultRecordTtl
    const every = options.sweepEveryMs ?? 60_000
    if (every > 0) {
      this.#timer = setInterval(() => this.sweep(), every)
      ;(this.#timer as { unref?: () => void }).unref?.()
    }
  }

  #live(id: string) {
    const e = this.#entries.get(id)
    if (e && e.expires <= this.#now()) {
      this.#entries.delete(id)
      return undefined
    }
    return e
  }

  /** Drops every expired entry now. */
  sweep(): void {
    const t = this.#now()
    for (const [id, e] of this.#entries) if (e.expires <= t) this.#entries.delete(id)
    for (const [player, byNpc] of this.#records) {
      for (const [npc, e] of byNpc) if (e.expires <= t) byNpc.delete(npc)
      if (byNpc.size === 0) this.#records.delete(player)
    }
  }

  /** A record, unless it expired (then it is gone, as in Redis). */
  #record(key: RecordKey) {
    const byNpc = this.#records.get(key.player)
    const e = byNpc?.get(key.npc)
    if (e && e.expires <= this.#now()) {
      byNpc!.delete(key.npc)
      if (byNpc!.size === 0) this.#records.delete(key.player)
      return undefined
    }
    return e
  }

  /** Conversations held (expired ones not yet swept included). */
  size(): number {
    return this.#entries.size
  }

  /** Milliseconds until the soonest entry expires: when a full store will have room again. */
  nextExpiryMs(): number {
    let soonest = Infinity
    for (const e of this.#entries.values()) soonest = Math.min(soonest, e.expires)
    return soonest === Infinity ? 0 : Math.max(0, soonest - this.#now())
  }

  async get(id: string): Promise<StoredConversation | undefined> {
    const e = this.#live(id)
    // Stored as JSON, as Redis does, so callers never share objects with the store.
    return e ? { ...(JSON.parse(e.json) as Omit<StoredConversation, 'version'>), version: e.version } : undefined
  }

  async head(id: string): Promise<{ version: number; owner: string } | undefined> {
    const e = this.#live(id)
    return e && { version: e.version, owner: e.owner }
  }

  async put(id: string, record: Omit<StoredConversation, 'version'>, expected: number): Promise<boolean> {
    const current = this.#live(id)?.version ?? 0
    if (current !== expected) return false
    this.#entries.set(id, { json: JSON.stringify(record), owner: record.owner, version: expected + 1, expires: this.#now() + this.#ttlMs })
    return true
  }

  async delete(id: string): Promise<void> {
    this.#entries.delete(id)
  }

  async touch(id: string): Promise<void> {
    const e = this.#live(id)
    if (e) e.expires = this.#now() + this.#ttlMs
  }

  async getRecord(key: RecordKey): Promise<StoredRecord | undefined> {
    const e = this.#record(key)
    return e && { record: JSON.parse(e.json) as unknown, version: e.version }
  }

  async putRecord(key: RecordKey, record: unknown, expected: number): Promise<boolean> {
    const current = this.#record(key)?.version ?? 0
    if (current !== expected) return false
    let byNpc = this.#records.get(key.player)
    if (!byNpc) this.#records.set(key.player, (byNpc = new Map()))
    const ttl = this.#recordTtl(key)
    byNpc.set(key.npc, { json: JSON.stringify(record), version: expected + 1, expires: ttl === undefined ? Infinity : this.#now() + ttl })
    return true
  }

  async deleteRecords(player: string, npc?: string): Promise<number> {
    const byNpc = this.#records.get(player)
    if (!byNpc) return 0
    const t = this.#now()
    if (npc === undefined) {
      this.#records.delete(player)
      // Expired records are gone already: they do not count as deleted now.
      return [...byNpc.values()].filter((e) => e.expires > t).length
    }
    const gone = (byNpc.get(npc)?.expires ?? 0) > t ? 1 : 0
    byNpc.delete(npc)
    if (byNpc.size === 0) this.#records.delete(player)
    return gone
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
