import type { GlmToolCall } from '../glm/types.ts'
import { messageTokens } from './tokens.ts'

/** One message of the conversation, shaped as a GLM message so requests can share it without copying. */
export interface HistoryEntry {
  readonly role: 'user' | 'assistant' | 'tool'
  readonly content: string
  readonly tool_calls?: GlmToolCall[]
  readonly tool_call_id?: string
}

/** One exchange: the player's line, any tool calls and their results, and the NPC's reply. */
interface Node {
  readonly messages: readonly HistoryEntry[]
  /** Estimated once, when recorded, so trimming never re-tokenizes old turns. */
  readonly tokens: number
  /** The index of its first message in the whole history: where a running summary may end. */
  readonly start: number
  readonly prev: Node | undefined
  /**
   * The window `recent` computed for this exchange as the newest, kept so that the next exchange
   * derives its own from it (one exchange in, the oldest out) instead of walking back over the
   * whole window every turn. Moved to the next exchange when that one computes its window, so a
   * long session holds one window, not one per turn; any node without it is walked as before.
   */
  window?: Window | undefined
}

interface Window {
  readonly budget: number
  /** The exchanges kept, oldest first. */
  readonly nodes: readonly Node[]
  /** Their messages, oldest first. */
  readonly entries: readonly HistoryEntry[]
  readonly tokens: number
}

const cost = (m: HistoryEntry) => messageTokens(m.content) + (m.tool_calls ? messageTokens(JSON.stringify(m.tool_calls)) : 0)
/** Frozen: entries are shared, uncopied, by every request that carries them. */
const copy = (e: HistoryEntry): HistoryEntry =>
  Object.freeze({
    role: e.role,
    content: e.content,
    ...(e.tool_calls && { tool_calls: e.tool_calls }),
    ...(e.tool_call_id && { tool_call_id: e.tool_call_id }),
  })

/**
 * A conversation's history: immutable and append-only, stored as exchanges newest first, so a
 * long session costs no more per turn than a short one and earlier values stay valid (the
 * machine's transitions remain pure). Trimming drops whole exchanges, so a tool call is never
 * separated from its result and the player always speaks first.
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

  /** Adds entries; a player (`user`) entry starts a new exchange, anything else extends the last. */
  append(...entries: HistoryEntry[]): History {
    let last = this.#last
    let index = this.length
    for (const e of entries) {
      const entry = copy(e)
      if (entry.role === 'user' || !last) last = { messages: [entry], tokens: cost(entry), start: index, prev: last }
      else last = { messages: [...last.messages, entry], tokens: last.tokens + cost(entry), start: last.start, prev: last.prev }
      index++
    }
    return new History(this.length + entries.length, last)
  }

  /** The last `count` entries, oldest first, walking back no further than that. */
  tail(count: number): HistoryEntry[] {
    const out: HistoryEntry[] = []
    for (let node = this.#last; node && out.length < count; node = node.prev) {
      for (let i = node.messages.length - 1; i >= 0 && out.length < count; i--) out.push(node.messages[i]!)
    }
    return out.reverse()
  }

  toArray(): HistoryEntry[] {
    return this.tail(this.length)
  }

  /**
   * The newest whole exchanges whose tokens fit the budget, oldest first; none before entry `from`
   * (where a running summary ends: what it covers is not sent twice).
   */
  recent(budgetTokens: number, from = 0): HistoryEntry[] {
    return [...this.recentView(budgetTokens, from)]
  }

  /** `recent`, without a copy where it can: read-only (a request builder copies it once, into the request). */
  recentView(budgetTokens: number, from = 0): readonly HistoryEntry[] {
    if (!this.#last) return []
    const window = windowOf(this.#last, budgetTokens)
    if (from === 0 || (window.nodes[0]?.start ?? from) >= from) return window.entries
    return window.nodes.filter((n) => n.start >= from).flatMap((n) => n.messages)
  }

  /** The tokens of what `recent(budgetTokens, from)` keeps. */
  recentTokens(budgetTokens: number, from = 0): number {
    if (!this.#last) return 0
    const window = windowOf(this.#last, budgetTokens)
    if (from === 0 || (window.nodes[0]?.start ?? from) >= from) return window.tokens
    return window.nodes.reduce((sum, n) => (n.start >= from ? sum + n.tokens : sum), 0)
  }

  /** Whether every exchange from entry `from` on fits the budget (nothing of it would be trimmed). */
  fitsFrom(budgetTokens: number, from: number): boolean {
    if (!this.#last || from >= this.length) return true
    const oldest = windowOf(this.#last, budgetTokens).nodes[0]
    return oldest !== undefined && oldest.start <= from
  }

  /**
   * Where the newest exchanges that fit `keepTokens` begin, never before `from`: folding
   * `[from, foldPoint)` into a summary keeps whole exchanges, tool calls with their results. The
   * newest exchange is always kept.
   */
  foldPoint(from: number, keepTokens: number): number {
    let point = this.length
    let tokens = 0
    for (let node = this.#last; node && node.start >= from; node = node.prev) {
      tokens += node.tokens
      if (tokens > keepTokens && point < this.length) break
      point = node.start
    }
    return Math.max(point, from)
  }

  /** Entries `[from, to)`, oldest first: whole exchanges when both are exchange starts. */
  slice(from: number, to: number): HistoryEntry[] {
    return this.tail(this.length - from).slice(0, Math.max(0, to - from))
  }

  /** Whether entry `index` begins an exchange (or is the end of the history). */
  isExchangeStart(index: number): boolean {
    if (index === this.length) return true
    for (let node = this.#last; node; node = node.prev) if (node.start <= index) return node.start === index
    return false
  }
}

/** The newest exchanges up to `last` that fit the budget: derived from the previous exchange's window when it has one. */
function windowOf(last: Node, budget: number): Window {
  if (last.window?.budget === budget) return last.window
  const before = last.prev?.window
  let window: Window
  if (before && before.budget === budget) {
    // Every window ending here, less this exchange, fits wherever the previous one did, so it is
    // the previous window's newest part plus this exchange.
    if (last.tokens > budget) window = { budget, nodes: [], entries: [], tokens: 0 }
    else {
      let tokens = before.tokens + last.tokens
      let drop = 0
      let dropEntries = 0
      while (tokens > budget) {
        const oldest = before.nodes[drop++]!
        tokens -= oldest.tokens
        dropEntries += oldest.messages.length
      }
      // One new array each (slice, then push): the window is rebuilt on every turn.
      const nodes = before.nodes.slice(drop)
      nodes.push(last)
      const entries = before.entries.slice(dropEntries)
      for (const m of last.messages) entries.push(m)
      window = { budget, nodes, entries, tokens }
    }
    if (!last.window) last.prev!.window = undefined
  } else {
    const nodes: Node[] = []
    let tokens = 0
    for (let node: Node | undefined = last; node; node = node.prev) {
      if (tokens + node.tokens > budget) break
      tokens += node.tokens
      nodes.push(node)
    }
    nodes.reverse()
    window = { budget, nodes, entries: nodes.flatMap((n) => n.messages), tokens }
  }
  // The first budget asked of an exchange (the NPC's own, on every turn) is the one kept: a
  // one-off asked after it (the overflow retry's half) cannot displace it.
  if (!last.window) last.window = window
  return window
}

/**
 * Checks that entries form whole exchanges: the player's line, then any assistant tool calls each
 * followed by one tool result per call, then the NPC's reply. Returns what is wrong, if anything.
 */
export function exchangeProblem(entries: readonly HistoryEntry[]): string | undefined {
  let i = 0
  while (i < entries.length) {
    if (entries[i]!.role !== 'user') return `entry ${i} should be a player line`
    i++
    for (;;) {
      const m = entries[i]
      if (!m || m.role !== 'assistant') return `entry ${i} should be the NPC's reply`
      i++
      if (!m.tool_calls?.length) break
      for (const call of m.tool_calls) {
        const result = entries[i]
        if (!result || result.role !== 'tool' || result.tool_call_id !== call.id) return `entry ${i} should be the result of tool call ${call.id}`
        i++
      }
    }
  }
  return undefined
}
