import type { Npc } from '../content/schema.ts'
import type { GlmMessage } from '../glm/types.ts'
import { buildSystemMessage, type PromptState } from './system.ts'

export interface HistoryEntry {
  readonly role: 'user' | 'assistant'
  readonly content: string
  /** Estimated once, when the entry is recorded, so trimming never re-tokenizes old turns. */
  readonly tokens: number
}

/**
 * Index of the first history entry to keep: the newest whole exchanges that fit the budget,
 * walking back from the end, so the cost depends on the window, not the conversation's length.
 * History is recorded in user/assistant pairs, so cutting at an even index keeps alternation.
 */
export function windowStart(history: readonly HistoryEntry[], budgetTokens: number): number {
  let used = 0
  let start = history.length
  for (let i = history.length - 2; i >= 0; i -= 2) {
    const cost = history[i]!.tokens + history[i + 1]!.tokens
    if (used + cost > budgetTokens) break
    used += cost
    start = i
  }
  return start
}

/**
 * The exact `messages` list for one GLM call: one system message, the authored example turns,
 * the kept history, then the player's line. Pure: the same inputs give byte-identical output.
 */
export function buildMessages(npc: Npc, state: PromptState, history: readonly HistoryEntry[], playerLine: string): GlmMessage[] {
  const messages: GlmMessage[] = [{ role: 'system', content: buildSystemMessage(npc, state) }]
  for (const example of npc.examples) {
    messages.push({ role: 'user', content: example.player }, { role: 'assistant', content: example.npc })
  }
  for (let i = windowStart(history, npc.history.max_tokens); i < history.length; i++) {
    const entry = history[i]!
    messages.push({ role: entry.role, content: entry.content })
  }
  messages.push({ role: 'user', content: playerLine })
  return messages
}
