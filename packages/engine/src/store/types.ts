import { ParleyError } from '../errors.ts'

import type { ConversationSnapshot } from '../conversation/snapshot.ts'
import type { GlmMessage } from '../glm/types.ts'

/** A conversation as a store keeps it: plain JSON, so any server process can pick it up. */
export interface StoredConversation {
  snapshot: ConversationSnapshot
  /** The client that owns it; nobody else may read or write it. */
  owner: string
  /** Bumped by every successful put; a put names the version it read (optimistic concurrency). */
  version: number
  /** Answers already given, by idempotency key, so a retried request is not a second turn. */
  answers: Record<string, unknown>
  /** What the designer's panel shows about the last call, which snapshots do not keep. */
  view?: { lastRequest: GlmMessage[] | null; lore: string[] } | undefined
  /** When it started (ms since the epoch): a conversation begun before the player's "new game" is not remembered. */
  startedAt?: number | undefined
  /**
   * This run of the conversation, random: an id can come back (a key-derived id reused after a
   * delete), and the memory record must take the new run as a conversation of its own.
   */
  run?: string | undefined
}

/**
 * Where conversations live between requests. `put` is a compare-and-set: it succeeds only if the
 * stored version is still `expected` (0 for a new conversation), so two servers answering the
 * same conversation at once can never both write.
 */
export interface ConversationStore {
  get(id: string): Promise<StoredConversation | undefined>
  /** The version and owner alone: cheap, so a server can tell whether its live copy is current. */
  head(id: string): Promise<{ version: number; owner: string } | undefined>
  /** Writes `record` with version `expected + 1` if the stored version is `expected`; false if not. */
  put(id: string, record: Omit<StoredConversation, 'version'>, expected: number): Promise<boolean>
  delete(id: string): Promise<void>
  /** Keeps the conversation from expiring while it is used. */
  touch(id: string): Promise<void>
  close?(): Promise<void>
  /**
   * Stores that keep conversations in this process's memory say how many they hold (and when
   * the soonest expires), so a server can refuse new ones at its cap instead of growing.
   */
  size?(): number
  nextExpiryMs?(): number
  /**
   * What an NPC remembers of a player across conversations (`memory/record.ts`): one record per
   * (player, NPC), kept until deleted (it never expires with the conversations), or, for an
   * anonymous browser's, as long as its cookie lives (`defaultRecordTtl`). A store without
   * these methods keeps no memory: conversations then start from nothing, as before.
   */
  getRecord?(key: RecordKey): Promise<StoredRecord | undefined>
  /** Compare-and-set, as `put`: writes version `expected + 1` if the stored version is `expected` (0: none yet). */
  putRecord?(key: RecordKey, record: unknown, expected: number): Promise<boolean>
  /** Deletes the player's record with one NPC, or with every NPC when `npc` is left out. Returns how many went. */
  deleteRecords?(player: string, npc?: string): Promise<number>
}

/** Whose record: the player (the conversation's owner) and the NPC's id. */
export interface RecordKey {
  player: string
  npc: string
}

/** A record as stored: its JSON as written (checked by the reader) and its version. */
export interface StoredRecord {
  record: unknown
  version: number
}

/**
 * How long an anonymous browser's id lives (the HTTP handler's `c:` players, named by a signed
 * cookie of this lifetime). Once the cookie is gone nobody can present that id again, so its
 * records are kept this long after their last write and no longer.
 */
export const ANONYMOUS_PLAYER_PREFIX = 'c:'
export const ANONYMOUS_PLAYER_LIFETIME_MS = 365 * 86_400_000

/** A record's lifetime after each write, in ms; undefined: kept until deleted. */
export type RecordTtl = (key: RecordKey) => number | undefined

/** The stores' default: an anonymous browser's records live as long as its cookie; a game's players' records until deleted. */
export const defaultRecordTtl: RecordTtl = (key) => (key.player.startsWith(ANONYMOUS_PLAYER_PREFIX) ? ANONYMOUS_PLAYER_LIFETIME_MS : undefined)

/** Stores that keep records; the memory keeper needs one. */
export type RecordStore = Required<Pick<ConversationStore, 'getRecord' | 'putRecord' | 'deleteRecords'>>

export function keepsRecords(store: ConversationStore): store is ConversationStore & RecordStore {
  return typeof store.getRecord === 'function' && typeof store.putRecord === 'function' && typeof store.deleteRecords === 'function'
}

/** Most answers kept per conversation for idempotent retries. */
export const MAX_ANSWERS = 32

/** The answer stored under `key`: own properties only, so `constructor` or `__proto__` is just an unknown key. */
export function storedAnswer(answers: Record<string, unknown>, key: string): { value: unknown } | undefined {
  return Object.hasOwn(answers, key) ? { value: answers[key] } : undefined
}

/** `answers` plus one, as a fresh object whose keys are all own data properties (even `__proto__`). */
export function withAnswer(answers: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  return trimAnswers(Object.fromEntries([...Object.entries(answers).filter(([k]) => k !== key), [key, value]]))
}

export function trimAnswers(answers: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(answers)
  return keys.length <= MAX_ANSWERS ? answers : Object.fromEntries(keys.slice(-MAX_ANSWERS).map((k) => [k, answers[k]]))
}

/** The store could not be reached: the handler answers 503, and the conversation is untouched. */
export class StoreUnavailableError extends ParleyError {
  override name = 'StoreUnavailableError'
  declare readonly code: 'store_unavailable'
  constructor(cause: unknown) {
    super('store_unavailable', `the conversation store is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}
