/** Which player lines end the conversation: the NPC's exit phrases, compared leniently. */
import type { Npc } from '../content/schema.ts'

/** Exit phrases match whatever the width of the punctuation or the spacing: "任务结束！" is "任务结束! ". */
export function normalizePhrase(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, '').toLowerCase()
}

const exitCache = new WeakMap<Npc, ReadonlySet<string>>()

export function isExitPhrase(npc: Npc, line: string): boolean {
  let phrases = exitCache.get(npc)
  if (!phrases) exitCache.set(npc, (phrases = new Set(npc.exit_phrases.map(normalizePhrase))))
  // Long lines are never exit phrases; skip normalising them.
  if (line.length > 200) return false
  const n = normalizePhrase(line)
  return n !== '' && phrases.has(n)
}
