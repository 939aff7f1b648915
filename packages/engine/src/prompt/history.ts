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
  readonly prev: Node | undefined
}

const cost = (m: HistoryEntry) => messageTokens(m.content) + (m.tool_calls ? messageTokens(JSON.stringify(m.tool_calls)) : 0)
const copy = (e: HistoryEntry): HistoryEntry => ({
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
    for (const e of entries) {
      const entry = copy(e)
      if (entry.role === 'user' || !last) last = { messages: [entry], tokens: cost(entry), prev: last }
      else last = { messages: [...last.messages, entry], tokens: last.tokens + cost(entry), prev: last.prev }
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

  /** The newest whole exchanges whose tokens fit the budget, oldest first. */
  recent(budgetTokens: number): HistoryEntry[] {
    const kept: (readonly HistoryEntry[])[] = []
    let used = 0
    for (let node = this.#last; node; node = node.prev) {
      if (used + node.tokens > budgetTokens) break
      used += node.tokens
      kept.push(node.messages)
    }
    return kept.reverse().flat()
  }

  /** The tokens of what `recent(budgetTokens)` keeps. */
  recentTokens(budgetTokens: number): number {
    let used = 0
    for (let node = this.#last; node && used + node.tokens <= budgetTokens; node = node.prev) used += node.tokens
    return used
  }
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
