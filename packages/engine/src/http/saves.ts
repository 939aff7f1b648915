/**
 * Signed saves: what the HTTP API hands a player instead of a bare snapshot. The snapshot travels
 * as the exact JSON text that was signed (so no client's key ordering can break it), beside the
 * NPC, the player it belongs to and a signature by the server's key ring. Opening a save checks
 * version, signature, NPC and player, in that order, and refuses with a stable code; it never
 * returns a snapshot it did not sign. The in-process `restoreConversation` stays unsigned.
 */
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

export async function sealSave(ring: KeyRing, snapshot: ConversationSnapshot, player: string | null): Promise<SignedSave> {
  const unsigned = { format: SAVE_FORMAT, version: SAVE_VERSION, npc: snapshot.npc, player, data: JSON.stringify(snapshot) } as const
  return { ...unsigned, signature: await ring.sign(PURPOSE, macInput(unsigned)) }
}

export function looksLikeSignedSave(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'format') && (value as { format: unknown }).format === SAVE_FORMAT
}

/**
 * The snapshot inside a save this server's key ring signed, for `npc`. With `player`, the save
 * must have been taken by that identity; without (the game restoring), any signed save opens.
 */
export async function openSave(ring: KeyRing, save: unknown, expect: { npc: string; player?: string | undefined }): Promise<unknown> {
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
  if (fields.npc !== expect.npc) throw new SaveError('save_wrong_npc', `this save belongs to NPC "${fields.npc}", not "${expect.npc}"`)
  if (expect.player !== undefined && fields.player !== expect.player) throw new SaveError('save_other_player', 'this save belongs to another player')
  try {
    return JSON.parse(fields.data)
  } catch {
    throw new SaveError('save_invalid', 'the save\'s data is not JSON')
  }
}
