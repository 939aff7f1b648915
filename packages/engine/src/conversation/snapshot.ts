/** Save games: a conversation's data as plain, versioned JSON, and back, validated against the NPC file as it is now. */
import { z } from 'zod'
import type { Npc } from '../content/schema.ts'
import { ParleyError } from '../errors.ts'
import { History, exchangeProblem } from '../prompt/history.ts'
import { newlyUnlocked, type ConversationData } from './state.ts'
import { adaptVars, varsVersion } from '../vars/values.ts'
import { clipToTokens } from '../prompt/summary.ts'
import { summariesOn } from './running-summary.ts'
import { loreGatesKnown } from '../lore/gates.ts'

export const SNAPSHOT_FORMAT = 'parley.conversation'
/**
 * 2 added `vars` and `vars_version`; version 1 saves (before variables) still restore, at the
 * defaults. 3 added `summary` (the running summary of older exchanges); earlier saves restore
 * without one, and one is written in the background once the history outgrows its window.
 * 4 added what memory needs to keep a restored save honest: `started_at`, `inherited_unlocks` and
 * `inherited_vars` (where a conversation opened by the memory keeper began), `gated_lore` and each
 * memory's `lore`; earlier saves restore without them.
 */
export const SNAPSHOT_VERSION = 4

const snapshotSchema = z.strictObject({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(SNAPSHOT_VERSION)]),
  npc: z.string().min(1),
  state: z.enum(['awaiting', 'ended']),
  history: z
    .array(
      z.strictObject({
        role: z.enum(['user', 'assistant', 'tool']),
        content: z.string().max(1_000_000),
        tool_calls: z.array(z.strictObject({ id: z.string(), type: z.literal('function'), index: z.int().optional(), function: z.strictObject({ name: z.string(), arguments: z.string() }) })).optional(),
        tool_call_id: z.string().optional(),
      }),
    )
    .max(100_000),
  items: z.record(z.string(), z.int().min(0)),
  flags: z.array(z.string()),
  vars: z.record(z.string(), z.union([z.number(), z.string().max(200)])).optional(),
  /** Which version of the NPC file's variable declarations the values were saved under (`varsVersion`). */
  vars_version: z.string().max(64).optional(),
  unlocked: z.array(z.string()),
  said: z.array(z.string()),
  fresh: z.array(z.string()),
  turns: z.int().min(0),
  failures: z.int().min(0),
  /** The running summary: its text, and the history entries and exchanges it covers. */
  summary: z.strictObject({ text: z.string().min(1).max(100_000), covers_entries: z.int().min(0), covers_turns: z.int().min(0) }).optional(),
  /** Memories of the player this conversation carries (memory/carry.ts); absent in saves without any. */
  memories: z.array(z.strictObject({ text: z.string().max(20_000), secrets: z.array(z.string()).max(1000), lore: z.array(z.string()).max(1000).optional() })).max(100).optional(),
  /** The secret sets of memories held back, never their text. */
  withheld_memories: z.array(z.array(z.string()).max(1000)).max(100).optional(),
  /** Gated lore sent in this conversation (source ids): a memory of it is told only where those gates hold. */
  gated_lore: z.array(z.string()).max(1000).optional(),
  /** When a conversation opened by the memory keeper started (ms since the epoch): a save from before the player's "new game" is not remembered. */
  started_at: z.number().finite().min(0).optional(),
  /** The unlocks and variables it took from the record: the record takes back only what the conversation changed itself. */
  inherited_unlocks: z.array(z.string()).max(1000).optional(),
  inherited_vars: z.record(z.string(), z.union([z.number(), z.string().max(200)])).optional(),
})

/** A save game: plain JSON, safe to store anywhere and to send to a client. */
export type ConversationSnapshot = z.infer<typeof snapshotSchema>

export function toSnapshot(npc: Npc, data: ConversationData, ended: boolean): ConversationSnapshot {
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    npc: npc.id,
    state: ended ? 'ended' : 'awaiting',
    history: data.history.toArray().map((h) => ({ ...h })),
    items: { ...data.items },
    flags: [...data.flags],
    vars: { ...data.vars },
    vars_version: varsVersion(npc),
    unlocked: [...data.unlocked],
    said: [...data.said],
    fresh: [...data.fresh],
    turns: data.turns,
    failures: data.failures,
    ...(data.summary && { summary: { text: data.summary.text, covers_entries: data.summary.covers, covers_turns: data.summary.turns } }),
    ...(data.memories?.length && { memories: data.memories.map((m) => ({ text: m.text, secrets: [...m.secrets], ...(m.lore?.length && { lore: [...m.lore] }) })) }),
    ...(data.withheld?.length && { withheld_memories: data.withheld.map((s) => [...s]) }),
    ...(data.gatedLore?.length && { gated_lore: [...data.gatedLore] }),
    ...(data.origin && { started_at: data.origin.startedAt, inherited_unlocks: [...data.origin.unlocked], inherited_vars: { ...data.origin.vars } }),
  }
}

/**
 * Validates a snapshot and adapts it to the NPC file as it is now: secrets and items the file
 * no longer has are dropped, and unlock conditions are evaluated again, so an edited file never
 * crashes a save game. A snapshot of another NPC, or a tampered one, is refused.
 */
export function fromSnapshot(npc: Npc, snapshot: unknown): { data: ConversationData; ended: boolean } {
  const parsed = snapshotSchema.safeParse(snapshot)
  if (!parsed.success) {
    const first = parsed.error.issues[0]!
    throw new ParleyError('snapshot_invalid', `not a valid Parley conversation snapshot: ${first.path.join('.') || 'root'}: ${first.message}`)
  }
  const s = parsed.data
  if (s.npc !== npc.id) throw new ParleyError('snapshot_wrong_npc', `this snapshot belongs to NPC "${s.npc}", not "${npc.id}"`)
  const problem = exchangeProblem(s.history)
  if (problem) throw new ParleyError('snapshot_invalid', `snapshot history is not whole exchanges: ${problem}`)
  const history = History.from(s.history)
  if (s.summary && !(s.summary.covers_entries <= history.length && history.isExchangeStart(s.summary.covers_entries))) {
    throw new ParleyError('snapshot_invalid', `snapshot summary.covers_entries (${s.summary.covers_entries}) is not the start of an exchange in its history`)
  }
  const secretIds = new Set(npc.secrets.map((x) => x.id))
  const data: ConversationData = {
    history,
    items: Object.fromEntries(Object.entries(s.items).filter(([id, n]) => npc.items[id] && n > 0)),
    flags: s.flags,
    // Unknown names dropped, values of a changed kind back to their default, numbers clamped to new bounds.
    vars: adaptVars(npc, s.vars ?? {}),
    unlocked: s.unlocked.filter((id) => secretIds.has(id)),
    said: s.said,
    fresh: s.fresh.filter((id) => secretIds.has(id)),
    turns: s.turns,
    failures: s.failures,
    // Held to the NPC file's budget as it is now, so the prompt stays bounded; dropped where the file turned summaries off.
    ...(s.gated_lore?.length && { gatedLore: s.gated_lore }),
    // A save from before this field is taken as starting when it is restored (the caller's start time).
    ...(s.started_at !== undefined && { origin: { startedAt: s.started_at, unlocked: (s.inherited_unlocks ?? []).filter((id) => secretIds.has(id)), vars: s.inherited_vars ?? {} } }),
    ...(s.summary && summariesOn(npc) && { summary: { text: clipToTokens(s.summary.text, npc.history.summary_tokens), covers: s.summary.covers_entries, turns: s.summary.covers_turns } }),
  }
  const again = newlyUnlocked(npc, data)
  const unlocked = again.length ? [...data.unlocked, ...again] : data.unlocked
  // A memory whose secret the edited file no longer has (or no longer unlocked) is held back, as at the start.
  const memories = (s.memories ?? []).filter((m) => m.secrets.every((id) => unlocked.includes(id)) && loreGatesKnown(npc, m.lore))
  const withheld = [...(s.withheld_memories ?? []), ...(s.memories ?? []).filter((m) => !memories.includes(m)).map((m) => m.secrets)]
  return { data: { ...data, unlocked, ...(memories.length && { memories }), ...(withheld.length && { withheld }) }, ended: s.state === 'ended' }
}
