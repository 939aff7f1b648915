/**
 * Signed saves: what the HTTP API hands a player instead of a bare snapshot. The snapshot travels
 * as the exact JSON text that was signed (so no client's key ordering can break it), beside the
 * NPC, the player it belongs to and a signature by the server's key ring. Opening a save checks
 * version, signature, NPC and player, in that order, and refuses with a stable code; it never
 * returns a snapshot it did not sign. The in-process `restoreConversation` stays unsigned.
 *
 * A snapshot remembers which `said` passphrases already matched, by their pattern. A save goes
 * to the player, and no player-facing answer may carry a pattern, so in a save each one is
 * replaced by a keyed hash of it; opening the save maps the hashes back through the NPC's own
 * patterns.
 */
import { saidKey } from '../conditions/evaluate.ts'
import type { Npc } from '../content/schema.ts'
import type { ConversationSnapshot } from '../conversation/snapshot.ts'
import type { KeyRing } from './signing.ts'

export const SAVE_FORMAT = 'parley.save'
export const SAVE_VERSION = 1
const PURPOSE = 'parley.save.v1'

export interface SignedSave {
  format: typeof SAVE_FORMAT
  version: typeof SAVE_VERSION
  npc: string
  /** The identity that took the save; only it (or the game) may restore it. */
  player: string | null
  /** The snapshot, as the JSON text that was signed. */
  data: string
  /** `keyId.mac` (HMAC-SHA-256). */
  signature: string
}

export type SaveErrorCode = 'save_invalid' | 'save_unsigned' | 'save_version_unknown' | 'save_signature_invalid' | 'save_wrong_npc' | 'save_other_player'

export class SaveError extends Error {
  override name = 'SaveError'
  readonly code: SaveErrorCode
  constructor(code: SaveErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

const macInput = (s: { version: number; npc: string; player: string | null; data: string }) => JSON.stringify([s.version, s.npc, s.player, s.data])

const SAID_PURPOSE = 'parley.said.v1'
const hidden = async (ring: KeyRing, key: string) => `hidden:${(await ring.sign(SAID_PURPOSE, key)).split('.')[1]}`

/** Every `said` condition's key anywhere in the NPC (secrets, lore, actions, scripted replies). */
function saidKeys(npc: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(npc)) for (const v of npc) saidKeys(v, out)
  else if (npc !== null && typeof npc === 'object') {
    for (const [k, v] of Object.entries(npc)) {
      if (k === 'said' && v !== null && typeof v === 'object' && typeof (v as { matches?: unknown }).matches === 'string') out.add(saidKey(v as { matches: string; ignore_case?: boolean }))
      else saidKeys(v, out)
    }
  }
  return out
}

export async function sealSave(ring: KeyRing, snapshot: ConversationSnapshot, player: string | null): Promise<SignedSave> {
  const said = await Promise.all(snapshot.said.map((key) => hidden(ring, key)))
  const unsigned = { format: SAVE_FORMAT, version: SAVE_VERSION, npc: snapshot.npc, player, data: JSON.stringify({ ...snapshot, said }) } as const
  return { ...unsigned, signature: await ring.sign(PURPOSE, macInput(unsigned)) }
}

export function looksLikeSignedSave(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'format') && (value as { format: unknown }).format === SAVE_FORMAT
}

/**
 * The snapshot inside a save this server's key ring signed, for `npc`. With `player`, the save
 * must have been taken by that identity; without (the game restoring), any signed save opens.
 */
export async function openSave(ring: KeyRing, save: unknown, expect: { npc: Npc; player?: string | undefined }): Promise<unknown> {
  if (!looksLikeSignedSave(save)) throw new SaveError('save_unsigned', 'this is not a signed save: restore what GET …/save returned, unchanged')
  const s = save as Record<string, unknown>
  if (s.version !== SAVE_VERSION) throw new SaveError('save_version_unknown', `save version ${JSON.stringify(s.version)} is not one this server reads (it reads ${SAVE_VERSION})`)
  const keys = Object.keys(s).sort().join(',')
  if (keys !== 'data,format,npc,player,signature,version' || typeof s.npc !== 'string' || typeof s.data !== 'string' || (s.player !== null && typeof s.player !== 'string')) {
    throw new SaveError('save_invalid', 'a signed save has exactly format, version, npc, player, data and signature')
  }
  const fields = { version: SAVE_VERSION, npc: s.npc, player: s.player as string | null, data: s.data }
  if (!(await ring.verify(PURPOSE, macInput(fields), s.signature))) {
    throw new SaveError('save_signature_invalid', 'the save\'s signature does not verify: it was changed, or signed by a key this server does not list')
  }
  if (fields.npc !== expect.npc.id) throw new SaveError('save_wrong_npc', `this save belongs to NPC "${fields.npc}", not "${expect.npc.id}"`)
  if (expect.player !== undefined && fields.player !== expect.player) throw new SaveError('save_other_player', 'this save belongs to another player')
  let snapshot: unknown
  try {
    snapshot = JSON.parse(fields.data)
  } catch {
    throw new SaveError('save_invalid', 'the save\'s data is not JSON')
  }
  const said = (snapshot as { said?: unknown } | null)?.said
  if (!Array.isArray(said)) return snapshot
  const byHash = new Map<string, string>()
  for (const key of saidKeys(expect.npc)) byHash.set(await hidden(ring, key), key)
  // A passphrase the NPC file no longer has is dropped, as the snapshot drops removed secrets.
  return { ...(snapshot as object), said: said.flatMap((h) => (typeof h === 'string' && byHash.has(h) ? [byHash.get(h)!] : [])) }
}
