import type { Npc } from '../content/schema.ts'
import type { GlmMessage } from '../glm/types.ts'
import type { History } from './history.ts'
import { buildSystemMessage, type PromptState } from './system.ts'

/**
 * The request again, smaller, after the model said the prompt does not fit its context window
 * (`context_exceeded`): the history window halved, the example turns left out, the retrieved lore
 * cut to its better half. The persona, the unlocked facts, the hints and what the game told the
 * NPC are never cut: they are what keeps the NPC itself and its secrets right. Pure.
 */
export function halvedWindow(npc: Npc, state: PromptState, history: History, playerLine: string): GlmMessage[] {
  const lore = state.lore ? state.lore.slice(0, Math.floor(state.lore.length / 2)) : undefined
  const messages: GlmMessage[] = [{ role: 'system', content: buildSystemMessage(npc, { ...state, lore }) }]
  // Half of the window that was sent, not of the budget: a short history under a large budget
  // must shrink too, or the retry would send the same request again.
  const from = state.summary?.covers
  const sent = history.recentTokens(npc.history.max_tokens, from)
  for (const entry of history.recent(Math.floor(sent / 2), from)) messages.push(entry)
  messages.push({ role: 'user', content: playerLine })
  return messages
}
