import type { Npc } from '../content/schema.ts'
import type { GlmMessage } from '../glm/types.ts'
import { buildSystemMessage, type PromptState } from './system.ts'
import type { History } from './history.ts'

/**
 * The exact `messages` list for one GLM call: one system message, the authored example turns,
 * the kept history, then the player's line. Pure: the same inputs give byte-identical output.
 */
export function buildMessages(npc: Npc, state: PromptState, history: History, playerLine: string): GlmMessage[] {
  const messages: GlmMessage[] = [{ role: 'system', content: systemMessage(npc, state) }, ...examples(npc)]
  // History entries are already GLM-shaped and immutable, so they are shared, not copied.
  // A running summary stands in for the entries before `covers`: the window starts after it.
  for (const entry of history.recent(npc.history.max_tokens, state.summary?.covers)) messages.push(entry)
  messages.push({ role: 'user', content: playerLine })
  return messages
}

const exampleCache = new WeakMap<Npc, readonly GlmMessage[]>()

function examples(npc: Npc): readonly GlmMessage[] {
  let list = exampleCache.get(npc)
  if (!list) {
    list = npc.examples.flatMap((e): GlmMessage[] => [{ role: 'user', content: e.player }, { role: 'assistant', content: e.npc }])
    exampleCache.set(npc, list)
  }
  return list
}

/**
 * The system message changes only when a gift, a flag, an unlock, the running summary or the retrieved lore does, and
 * those replace the state's arrays and objects; so the last text per NPC is reused while they are
 * the same.
 */
const systemCache = new WeakMap<Npc, { unlocked: unknown; items: unknown; flags: unknown; vars: unknown; memories: unknown; lore: unknown; summary: unknown; text: string }>()

function systemMessage(npc: Npc, state: PromptState): string {
  const hit = systemCache.get(npc)
  if (hit && hit.unlocked === state.unlocked && hit.items === state.items && hit.flags === state.flags && hit.vars === state.vars && hit.memories === state.memories && hit.lore === state.lore && hit.summary === state.summary) return hit.text
  const text = buildSystemMessage(npc, state)
  systemCache.set(npc, { unlocked: state.unlocked, items: state.items, flags: state.flags, vars: state.vars, memories: state.memories, lore: state.lore, summary: state.summary, text })
  return text
}
