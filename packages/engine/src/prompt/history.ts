import { messageTokens } from './tokens.ts'

/** One line of the conversation, shaped as a GLM message so requests can share it without copying. */
export interface HistoryEntry {
  readonly role: 'user' | 'assistant'
  readonly content: string
}

interface Node {
  readonly entry: HistoryEntry
  /** Estimated once, when the entry is recorded, so trimming never re-tokenizes old turns. */
  readonly tokens: number
  readonly prev: Node | undefined
}

/**
 * A conversation's history: immutable and append-only, stored newest first. Appending is O(1)
 * without copying, so a long session costs no more per turn than a short one, and every
 * earlier value stays valid (the machine's transitions remain pure). Reading the window walks
 * back from the newest entry, which is the order trimming needs.
 */
export class History {
  static readonly empty = new History(0, undefined)
  readonly length: number
  readonly #last: Node | undefined

  private constructor(length: number, last: Node | undefined) {
    this.length = length
    this.#last = last
  }

  static from(entries: readonly HistoryEntry[]): History {
    return History.empty.append(...entries)
  }

  append(...entries: HistoryEntry[]): History {
    let last = this.#last
    for (const e of entries) last = { entry: { role: e.role, content: e.content }, tokens: messageTokens(e.content), prev: last }
    return new History(this.length + entries.length, last)
  }

  /** The last `count` entries, oldest first, walking back no further than that. */
  tail(count: number): HistoryEntry[] {
    const out: HistoryEntry[] = []
    for (let node = this.#last; node && out.length < count; node = node.prev) out.push(node.entry)
    return out.reverse()
  }

  toArray(): HistoryEntry[] {
    const out = new Array<HistoryEntry>(this.length)
    let node = this.#last
    for (let i = this.length - 1; node; i--, node = node.prev) out[i] = node.entry
    return out
  }

  /**
   * The newest whole exchanges (player line and reply) whose tokens fit the budget, oldest first.
   * History is recorded in pairs, so cutting between pairs keeps user/assistant alternation.
   */
  recent(budgetTokens: number): HistoryEntry[] {
    const kept: HistoryEntry[] = []
    let used = 0
    let node = this.#last
    while (node?.prev) {
      const cost = node.tokens + node.prev.tokens
      if (used + cost > budgetTokens) break
      used += cost
      kept.push(node.entry, node.prev.entry)
      node = node.prev.prev
    }
    return kept.reverse()
  }
}
