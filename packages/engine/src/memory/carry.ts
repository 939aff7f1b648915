/**
 * What a new conversation starts from, given the NPC's record of the player: the secrets the
 * player unlocked with it, its variables, and the memories it may carry. Pure. A memory is carried
 * only if every secret it was written under is unlocked now, so a memory can never bring a fact
 * into a conversation where that fact is still locked; the others are held back, text and all.
 */
import type { Npc } from '../content/schema.ts'
import { initialData, newlyUnlocked, type CarriedMemory, type ConversationData } from '../conversation/state.ts'
import { loreGatesKnown } from '../lore/gates.ts'
import { estimateTokens } from '../prompt/tokens.ts'
import { adaptVars } from '../vars/values.ts'
import type { MemoryLimits } from './limits.ts'
import type { Memory, MemoryRecord } from './record.ts'

export interface Carried {
  memories: CarriedMemory[]
  /** Secret sets of the memories held back (never their text). */
  withheld: string[][]
}

/**
 * The memories a conversation with these secrets unlocked may carry, newest first into the
 * budget (then told oldest first); a memory the budget has no room for is left out, not cut.
 */
export function carriedMemories(memories: readonly Memory[], unlocked: readonly string[], promptTokens: number, npc?: Npc): Carried {
  const open = new Set(unlocked)
  const carried: CarriedMemory[] = []
  const withheld: string[][] = []
  let tokens = 0
  for (const m of [...memories].reverse()) {
    // Lore gates are checked again in each request (conversation/prepare.ts); one naming lore the file lost is shut for good.
    if (!m.secrets.every((id) => open.has(id)) || (npc && !loreGatesKnown(npc, m.lore))) {
      withheld.unshift([...m.secrets])
      continue
    }
    const cost = estimateTokens(m.text)
    if (tokens + cost > promptTokens) continue
    tokens += cost
    carried.unshift({ text: m.text, secrets: [...m.secrets], ...(m.lore?.length && { lore: [...m.lore] }) })
  }
  return { memories: carried, withheld }
}

/**
 * A new conversation's data from the record: unlocks the file still declares, variables adapted to
 * the file as it is now (a bound or a word list may have changed), every unlock those imply, then
 * the memories those unlocks allow. Items, flags and history start empty: gifts are events the
 * game reports in each conversation from its own inventory, and flags are the game's world state,
 * which it sets again; the record keeps what they earned (the unlocks).
 */
export function startFromRecord(npc: Npc, record: MemoryRecord | undefined, limits: MemoryLimits, startedAt?: number): ConversationData {
  const fresh = initialData(npc)
  if (!record) return startedAt === undefined ? fresh : { ...fresh, origin: { startedAt, unlocked: [], vars: fresh.vars } }
  const secretIds = new Set(npc.secrets.map((s) => s.id))
  const base: ConversationData = { ...fresh, unlocked: record.unlocked.filter((id) => secretIds.has(id)), vars: adaptVars(npc, record.vars) }
  const more = newlyUnlocked(npc, base)
  const unlocked = more.length ? [...base.unlocked, ...more] : base.unlocked
  const { memories, withheld } = carriedMemories(record.memories, unlocked, limits.promptTokens, npc)
  // Where it began, kept in its save: the record later takes only what it changed itself.
  const origin = startedAt === undefined ? {} : { origin: { startedAt, unlocked: [...unlocked], vars: base.vars } }
  return { ...base, unlocked, ...(memories.length && { memories }), ...(withheld.length && { withheld }), ...origin }
}
