/**
 * The player's purse with each NPC, kept across conversations when the server keeps memory: what
 * the player has handed over (so the same gold cannot buy trust twice once the NPC's record
 * carries that trust into the next conversation) and what the NPC has handed over (by its action's
 * flag, so the map is handed over once, not at every visit). It lives beside the NPC's memory
 * record, in the same store, under the player's own id, so it goes where the record goes: kept in
 * Redis when conversations are, forgotten with the player (the game's DELETE /api/memory deletes
 * every record of the player, this one too), expiring with an anonymous browser's cookie, and
 * emptied by the player's "new game" (the demo server calls `clear`).
 */
import type { ConversationStore, RecordKey } from '@parley/engine'
import { HttpProblem, presentedToken, readClientToken, type KeyRing } from '@parley/engine/http'

export interface Purse {
  /** Item id → how many the player has handed over, in every conversation with this NPC. */
  given: Record<string, number>
  /** The flags of things the NPC has handed over (an action's flag). */
  received: string[]
}

type RecordMethods = Required<Pick<ConversationStore, 'getRecord' | 'putRecord' | 'deleteRecords'>>
const keepsRecords = (store: ConversationStore): store is ConversationStore & RecordMethods => !!(store.getRecord && store.putRecord && store.deleteRecords)

const FORMAT = 'demo.purse'
const TRIES = 8
const empty = (): Purse => ({ given: {}, received: [] })

/** A record key no NPC can have: NPC ids are lowercase letters, digits, `_` and `-`. */
const keyOf = (player: string, npc: string): RecordKey => ({ player, npc: `${npc}#purse` })

/** A stored purse, checked: anything else reads as an empty purse rather than failing the page. */
function parsePurse(value: unknown): Purse {
  if (value === null || typeof value !== 'object') return empty()
  const v = value as { format?: unknown; given?: unknown; received?: unknown }
  if (v.format !== FORMAT) return empty()
  const given: Record<string, number> = {}
  if (v.given && typeof v.given === 'object') for (const [id, n] of Object.entries(v.given)) if (Number.isSafeInteger(n) && (n as number) > 0) given[id] = n as number
  const received = Array.isArray(v.received) ? v.received.filter((f): f is string => typeof f === 'string') : []
  return { given, received }
}

export class PurseBook {
  readonly #store: RecordMethods
  readonly #ring: KeyRing

  constructor(store: ConversationStore, ring: KeyRing) {
    if (!keepsRecords(store)) throw new Error('the purse book needs a store that keeps records (MemoryConversationStore or RedisConversationStore)')
    this.#store = store
    this.#ring = ring
  }

  /** The player a page's request comes from (its signed cookie), or undefined for none. */
  async playerOf(request: Request): Promise<string | undefined> {
    return readClientToken(this.#ring, presentedToken(request), Date.now())
  }

  async read(player: string, npc: string): Promise<Purse> {
    return parsePurse((await this.#store.getRecord(keyOf(player, npc)))?.record)
  }

  /**
   * Changes the purse with compare-and-set (two conversations of one player, even on two servers,
   * never spend the same gold): `change` returns the next purse, or undefined to leave it.
   */
  async change(player: string, npc: string, change: (p: Purse) => Purse | undefined): Promise<Purse> {
    for (let i = 0; i < TRIES; i++) {
      const got = await this.#store.getRecord(keyOf(player, npc))
      const current = parsePurse(got?.record)
      const next = change(current)
      if (!next) return current
      if (await this.#store.putRecord(keyOf(player, npc), { format: FORMAT, ...next }, got?.version ?? 0)) return next
    }
    throw new HttpProblem(409, 'conflict', 'the purse kept changing; try again')
  }

  /** The player's "new game" with these NPCs: their purses start full again. */
  async clear(player: string, npcs: readonly string[]): Promise<void> {
    await Promise.all(npcs.map((npc) => this.#store.deleteRecords(player, keyOf(player, npc).npc)))
  }
}
