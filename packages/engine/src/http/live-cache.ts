/**
 * The conversations this process holds as running actors, by id, with the store version each
 * matches, plus a per-conversation lock so one process answers a conversation's requests in
 * order. Bounded twice: at most `max` live (the least recently used leave first; the store still
 * keeps them) and none idle longer than `idleMs` once `sweep` runs.
 */
import type { Conversation } from '../conversation/conversation.ts'
import type { StoredConversation } from '../store/types.ts'

export interface Live {
  id: string
  record: Omit<StoredConversation, 'snapshot'>
  convo: Conversation
  usedAt?: number
}

export class LiveConversations {
  readonly #live = new Map<string, Live>()
  readonly #locks = new Map<string, Promise<void>>()
  readonly #max: number
  readonly #now: () => number

  constructor(max: number, now: () => number) {
    this.#max = max
    this.#now = now
  }

  get size(): number {
    return this.#live.size
  }

  get(id: string): Live | undefined {
    return this.#live.get(id)
  }

  /** Marks `l` most recently used; the oldest leaves when the cache is over its bound. */
  remember(l: Live): void {
    l.usedAt = this.#now()
    this.#live.delete(l.id)
    this.#live.set(l.id, l)
    while (this.#live.size > this.#max) {
      const [oldest] = this.#live.keys()
      this.forget(oldest!)
    }
  }

  forget(id: string): void {
    this.#live.get(id)?.convo.stop()
    this.#live.delete(id)
  }

  /** Stops and drops every conversation unused for `idleMs`; `onIdle` sees each first (the server writes its memory). */
  sweep(idleMs: number, onIdle?: (l: Live) => void): void {
    const cutoff = this.#now() - idleMs
    for (const [id, l] of this.#live) {
      if ((l.usedAt ?? 0) > cutoff) continue
      onIdle?.(l)
      this.forget(id)
    }
  }

  /** Every conversation held now. */
  all(): Live[] {
    return [...this.#live.values()]
  }

  clear(): void {
    for (const id of [...this.#live.keys()]) this.forget(id)
  }

  /** Waits for earlier requests to `id` in this process; call the returned release when done. */
  async acquire(id: string): Promise<() => void> {
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    const before = this.#locks.get(id) ?? Promise.resolve()
    const chained = before.then(() => mine)
    this.#locks.set(id, chained)
    await before
    return () => {
      release()
      if (this.#locks.get(id) === chained) this.#locks.delete(id)
    }
  }
}
