/**
 * The record an NPC keeps of one player across conversations: its memories (each with the secrets
 * that were unlocked when it was written), the secrets the player has unlocked with it and the
 * variables it holds, plus the finished conversations still waiting for their summary. Plain JSON
 * in the conversation store (one record per player and NPC), checked when read.
 */
import { z } from 'zod'
import type { VarValue } from '../content/schema.ts'
import { ParleyError } from '../errors.ts'
import type { HistoryEntry } from '../prompt/history.ts'

export const RECORD_FORMAT = 'parley.record'
export const RECORD_VERSION = 1

/** One memory: what the NPC kept of one conversation (or of several, merged), in its own words. */
export interface Memory {
  text: string
  /** Secrets unlocked when it was written: it is carried only into a conversation where all of them are unlocked. */
  secrets: string[]
  /** Gated lore its conversation sent (source ids): it is told only in a request where each gate holds. */
  lore?: string[] | undefined
  /** The conversations it came from (more than one once merged). */
  sources: string[]
  /** When it was written (ms since the epoch). */
  at: number
  /** `fallback`: the model's summary failed every attempt, so the engine kept the player's lines itself. */
  by: 'model' | 'fallback'
  /** The version of the one conversation it came from, so an older copy of it never replaces it. */
  version?: number | undefined
}

/** A finished conversation whose memory is not written yet: kept so a failed summary loses nothing. */
export interface PendingMemory {
  source: string
  /** The newest whole exchanges, within the transcript budget. */
  entries: HistoryEntry[]
  /** The conversation's running summary of what came before `entries`, if it had one. */
  previous?: string | undefined
  secrets: string[]
  lore?: string[] | undefined
  attempts: number
  /** Not tried again before this (ms since the epoch). */
  retryAt: number
  version?: number | undefined
}

export interface MemoryRecord {
  format: typeof RECORD_FORMAT
  version: typeof RECORD_VERSION
  npc: string
  player: string
  /** Oldest first. */
  memories: Memory[]
  /** Secrets the player has unlocked with this NPC: sticky, so the next conversation starts with them. */
  unlocked: string[]
  vars: Record<string, VarValue>
  vars_version?: string | undefined
  pending: PendingMemory[]
  /** Conversations remembered so far. */
  conversations: number
  /**
   * The player's "new game": conversations that started before this (ms since the epoch) are not
   * remembered, even if they end later. 0 when the record has never been cleared.
   */
  since: number
  updated: number
}

const entry = z.strictObject({
  role: z.enum(['user', 'assistant', 'tool']),
  content: z.string(),
  tool_calls: z.array(z.strictObject({ id: z.string(), type: z.literal('function'), index: z.int().optional(), function: z.strictObject({ name: z.string(), arguments: z.string() }) })).optional(),
  tool_call_id: z.string().optional(),
})

const recordSchema = z.strictObject({
  format: z.literal(RECORD_FORMAT),
  version: z.literal(RECORD_VERSION),
  npc: z.string(),
  player: z.string(),
  memories: z.array(z.strictObject({ text: z.string(), secrets: z.array(z.string()), lore: z.array(z.string()).optional(), sources: z.array(z.string()), at: z.number(), by: z.enum(['model', 'fallback']), version: z.int().optional() })),
  unlocked: z.array(z.string()),
  vars: z.record(z.string(), z.union([z.number(), z.string()])),
  vars_version: z.string().optional(),
  pending: z.array(z.strictObject({ source: z.string(), entries: z.array(entry), previous: z.string().optional(), secrets: z.array(z.string()), lore: z.array(z.string()).optional(), attempts: z.int().min(0), retryAt: z.number(), version: z.int().optional() })),
  conversations: z.int().min(0),
  since: z.number(),
  updated: z.number(),
})

export function emptyRecord(player: string, npc: string): MemoryRecord {
  return { format: RECORD_FORMAT, version: RECORD_VERSION, npc, player, memories: [], unlocked: [], vars: {}, pending: [], conversations: 0, since: 0, updated: 0 }
}

/**
 * A stored record, checked. One that is not a record (written by something else, or by a newer
 * engine) is refused with `record_invalid`, never overwritten: the keeper then starts the
 * conversation without it and writes nothing over it.
 */
export function parseRecord(value: unknown, player: string, npc: string): MemoryRecord {
  const parsed = recordSchema.safeParse(value)
  if (!parsed.success) {
    const first = parsed.error.issues[0]!
    throw new ParleyError('record_invalid', `the memory record of ${npc} for this player is not one this engine can read: ${first.path.join('.') || 'root'}: ${first.message}`)
  }
  if (parsed.data.player !== player || parsed.data.npc !== npc) throw new ParleyError('record_invalid', `the memory record stored for ${npc} belongs to another player or NPC`)
  return parsed.data as MemoryRecord
}
