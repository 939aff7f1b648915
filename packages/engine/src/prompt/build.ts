import type { Npc } from '../content/schema.ts'
import type { GlmMessage } from '../glm/types.ts'
import { buildSystemMessage, type PromptState } from './system.ts'
import type { History } from './history.ts'

/**
 * The exact `messages` list for one GLM call: one system message, the authored example turns,
 * the kept history, then the player's line. Pure: the same inputs give byte-identical output.
 */
export function buildMessages(npc: Npc, state: PromptState, history: History, playerLine: string): GlmMessage[] {
  // History entries are already GLM-shaped and immutable, so they are shared, not copied; so are
  // the system message and examples while they are unchanged (frozen, since every request shares them).
  // A running summary stands in for the entries before `covers`: the window starts after it.
  return [systemMessage(npc, state), ...examples(npc), ...history.recentView(npc.history.max_tokens, state.summary?.covers), { role: 'user', content: playerLine }]
}

const exampleCache = new WeakMap<Npc, readonly GlmMessage[]>()

function examples(npc: Npc): readonly GlmMessage[] {
  let list = exampleCache.get(npc)
  if (!list) {
    list = npc.examples.flatMap((e): GlmMessage[] => [Object.freeze({ role: 'user' as const, content: e.player }), Object.freeze({ role: 'assistant' as const, content: e.npc })])
    exampleCache.set(npc, list)
  }
  return list
}

/**
 * The system message changes only when a gift, a flag, an unlock, the running summary or the retrieved lore does, and
 * those replace the state's arrays and objects; so the last text per NPC is reused while they are
 * the same.
 */
const systemCache = new WeakMap<Npc, { unlocked: unknown; items: unknown; flags: unknown; vars: unknown; memories: unknown; lore: unknown; summary: unknown; message: GlmMessage }>()

function systemMessage(npc: Npc, state: PromptState): GlmMessage {
  const hit = systemCache.get(npc)
  if (hit && hit.unlocked === state.unlocked && hit.items === state.items && hit.flags === state.flags && hit.vars === state.vars && hit.memories === state.memories && hit.lore === state.lore && hit.summary === state.summary) return hit.message
  const message: GlmMessage = Object.freeze({ role: 'system' as const, content: buildSystemMessage(npc, state) })
  systemCache.set(npc, { unlocked: state.unlocked, items: state.items, flags: state.flags, vars: state.vars, memories: state.memories, lore: state.lore, summary: state.summary, message })
  return message
}
