/**
 * When a player's line is one of the NPC's exit phrases. Pure, so the conversation machine and
 * anything else (a scenario runner, the page) agree on what "said the exit phrase" means.
 */
import type { Npc } from './schema.ts'

const TRAILING = /[\p{P}~]+$/u

/**
 * The form exit phrases are compared in: width (NFKC: "！" is "!"), case, spaces anywhere and
 * punctuation at the end are ignored, so "See you!", "see you" and "seeyou ." are one phrase and
 * "任务结束", "任务结束！" match "任务结束!". A phrase that is only punctuation keeps it.
 */
export function normalizePhrase(text: string): string {
  const folded = text.normalize('NFKC').replace(/\s+/g, '').toLowerCase()
  return folded.replace(TRAILING, '') || folded
}

const cache = new WeakMap<Npc, ReadonlySet<string>>()

export function isExitPhrase(npc: Pick<Npc, 'exit_phrases'>, line: string): boolean {
  let phrases = cache.get(npc as Npc)
  if (!phrases) cache.set(npc as Npc, (phrases = new Set(npc.exit_phrases.map(normalizePhrase))))
  // Long lines are never exit phrases; skip normalising them.
  if (line.length > 200) return false
  const n = normalizePhrase(line)
  return n !== '' && phrases.has(n)
}
