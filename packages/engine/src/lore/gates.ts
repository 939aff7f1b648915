/**
 * Lore gates as a memory sees them: which gated lore a request carried (by source id), and
 * whether those gates hold in another request's state. A memory that repeated gated lore must
 * not carry it past its gate, so it is told only where every such gate holds.
 */
import type { Npc } from '../content/schema.ts'
import { evaluate } from '../conditions/evaluate.ts'
import type { GameState } from '../conditions/types.ts'
import { sourceLabel, type LoreChunk } from './retrieve.ts'

/** The gated sources (ids, `lore[i]` without one) these retrieved chunks came from. */
export function gatedSources(npc: Npc, chunks: readonly Pick<LoreChunk, 'source'>[]): string[] {
  const sources = npc.lore?.sources
  if (!sources || chunks.length === 0) return []
  const out = new Set<string>()
  for (const chunk of chunks) if (sources[chunk.source]?.unlock) out.add(sourceLabel(npc, chunk.source))
  return [...out]
}

/** The lore source a gate names, or -1 when the file no longer has it. */
function sourceIndex(npc: Npc, gate: string): number {
  return (npc.lore?.sources ?? []).findIndex((_, k) => sourceLabel(npc, k) === gate)
}

/**
 * True when each gate holds in `state`. A gate naming lore the file no longer has is shut: what
 * the memory repeated can no longer be checked, so it is held back rather than trusted.
 */
export function loreGatesHold(npc: Npc, gates: readonly string[] | undefined, state: GameState): boolean {
  if (!gates?.length) return true
  return gates.every((gate) => {
    const i = sourceIndex(npc, gate)
    if (i < 0) return false
    const unlock = npc.lore!.sources[i]!.unlock
    return !unlock || evaluate(unlock, state)
  })
}

/** True when every gate still names lore in the file (a memory naming gone lore is held back from the start). */
export function loreGatesKnown(npc: Npc, gates: readonly string[] | undefined): boolean {
  if (!gates?.length) return true
  return gates.every((gate) => sourceIndex(npc, gate) >= 0)
}
