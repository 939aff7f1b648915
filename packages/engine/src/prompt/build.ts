import type { Npc } from '../content/schema.ts'
import type { GlmMessage } from '../glm/types.ts'
import { buildSystemMessage, type PromptState } from './system.ts'
import type { History } from './history.ts'

/**
 * The exact `messages` list for one GLM call: one system message, the authored example turns,
 * the kept history, then the player's line. Pure: the same inputs give byte-identical output.
 */
export function buildMessages(npc: Npc, state: PromptState, history: History, playerLine: string): GlmMessage[] {
  const messages: GlmMessage[] = [{ role: 'system', content: buildSystemMessage(npc, state) }]
  for (const example of npc.examples) {
    messages.push({ role: 'user', content: example.player }, { role: 'assistant', content: example.npc })
  }
  for (const entry of history.recent(npc.history.max_tokens)) messages.push({ role: entry.role, content: entry.content })
  messages.push({ role: 'user', content: playerLine })
  return messages
}
