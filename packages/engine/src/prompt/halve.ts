/**
 * A request with its remembered history cut in half, oldest first, for a retry after the model
 * said the context was too long. The system message, the authored examples and the player's line
 * stay; the kept part starts at a player line so the roles still alternate as GLM requires.
 */
import type { Npc } from '../content/schema.ts'
import type { GlmMessage } from '../glm/types.ts'

export function halveHistory(npc: Npc, messages: readonly GlmMessage[]): GlmMessage[] | undefined {
  const head = 1 + npc.examples.length * 2
  const history = messages.slice(head, -1)
  if (history.length === 0) return undefined
  let from = Math.ceil(history.length / 2)
  while (from < history.length && history[from]!.role !== 'user') from++
  return [...messages.slice(0, head), ...history.slice(from), messages.at(-1)!]
}
