import type { ConversationStore, StoredConversation } from './types.ts'

/** The embedded default: one process, conversations dropped after `ttlMs` without use. */
export class MemoryConversationStore implements ConversationStore {
  readonly #entries = new Map<string, { json: string; owner: string; version: number; expires: number }>()
  readonly #ttlMs: number
  readonly #now: () => number
  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 30 * 60_000
    this.#now = options.now ?? Date.now
  }

  #live(id: string) {
    const e = this.#entries.get(id)
    if (e && e.expires <= this.#now()) {
      this.#entries.delete(id)
      return undefined
    }
    return e
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
}
