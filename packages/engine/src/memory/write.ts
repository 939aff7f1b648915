/**
 * How a record changes as conversations end and their summaries come back. Pure functions from a
 * record to the next: the keeper reads, applies one, and writes with compare-and-set, so a
 * record is always whole (a memory lost to a crash is lost, never half-written). Each returns
 * undefined when there is nothing to write (the change is already there, or no longer wanted).
 */
import type { Npc, VarValue } from '../content/schema.ts'
import { History, type HistoryEntry } from '../prompt/history.ts'
import { scriptedSummary } from '../providers/scripted-summary.ts'
import { defaultVars } from '../vars/values.ts'
import type { MemoryLimits } from './limits.ts'
import type { Memory, MemoryRecord, PendingMemory } from './record.ts'

/** What the record takes from a conversation that ended (or was left idle). */
export interface FinishedConversation {
  /** Which conversation: writing the same one again replaces its memory, never adds a second. */
  source: string
  /** When it started: one that started before the player's "new game" is not remembered. */
  startedAt: number
  history: readonly HistoryEntry[]
  /** Its running summary of exchanges no longer in `history`, if any. */
  summary?: string | undefined
  unlocked: readonly string[]
  vars: Readonly<Record<string, VarValue>>
  varsVersion: string
  /**
   * Which version of it this is (a store's version): an older one than the record already took,
   * from a server whose copy went stale, changes nothing.
   */
  version?: number | undefined
}

/** The conversation's unlocks and variables taken into the record, and its transcript set to be summarised. */
export function withFinished(record: MemoryRecord, npc: Npc, c: FinishedConversation, limits: MemoryLimits, now: number): MemoryRecord | undefined {
  if (c.startedAt < record.since) return undefined
  const taken = [...record.pending.filter((p) => p.source === c.source), ...record.memories.filter((m) => m.sources.length === 1 && m.sources[0] === c.source)]
  if (c.version !== undefined && taken.some((t) => t.version !== undefined && t.version >= c.version!)) return undefined
  const declared = new Set(npc.secrets.map((s) => s.id))
  const unlocked = [...record.unlocked.filter((id) => declared.has(id)), ...c.unlocked.filter((id) => declared.has(id) && !record.unlocked.includes(id))]
  const entries = History.from(c.history).recent(limits.transcriptTokens).map((e) => ({ ...e }))
  const known = record.pending.some((p) => p.source === c.source) || record.memories.some((m) => m.sources.includes(c.source))
  let pending = record.pending.filter((p) => p.source !== c.source)
  let memories = record.memories
  if (entries.length || c.summary) {
    // The secrets unlocked when it is written, the record's included: the next conversation starts with those.
    pending = [...pending, { source: c.source, entries, ...(c.summary && { previous: c.summary }), secrets: [...unlocked], attempts: 0, retryAt: now, ...(c.version !== undefined && { version: c.version }) }]
    // Too many waiting: the oldest is written without the model now rather than dropped.
    while (pending.length > limits.maxPending) {
      const [oldest, ...rest] = pending
      memories = placed(memories, memoryOf(oldest!, fallbackText(npc, oldest!, limits), 'fallback', now))
      pending = rest
    }
  }
  const said = entries.length > 0 || !!c.summary
  // A conversation where nothing was said and nothing earned (a page opened and left) leaves no trace.
  if (!said && unlocked.length === record.unlocked.length && sameVars(record.updated === 0 ? defaultVars(npc) : record.vars, c.vars)) return undefined
  return { ...record, unlocked, vars: { ...c.vars }, vars_version: c.varsVersion, pending, memories, conversations: record.conversations + (known || !said ? 0 : 1), updated: now }
}

/** The summary of `source` written as a memory (undefined if it no longer waits: written elsewhere, or forgotten). */
export function withWritten(record: MemoryRecord, source: string, text: string, by: Memory['by'], now: number): MemoryRecord | undefined {
  const p = record.pending.find((x) => x.source === source)
  if (!p || !text.trim()) return undefined
  return { ...record, pending: record.pending.filter((x) => x !== p), memories: placed(record.memories, memoryOf(p, text, by, now)), updated: now }
}

/** A failed attempt: tried again after a doubling delay, or, once attempts are spent, written without the model. */
export function withFailure(record: MemoryRecord, npc: Npc, source: string, limits: MemoryLimits, now: number): MemoryRecord | undefined {
  const p = record.pending.find((x) => x.source === source)
  if (!p) return undefined
  const attempts = p.attempts + 1
  if (attempts >= limits.maxAttempts) return withWritten(record, source, fallbackText(npc, p, limits), 'fallback', now)
  const retried: PendingMemory = { ...p, attempts, retryAt: now + limits.retryDelayMs * 2 ** (attempts - 1) }
  return { ...record, pending: record.pending.map((x) => (x === p ? retried : x)), updated: now }
}

/** The two oldest memories, when the record holds more than it may. */
export function mergeCandidates(record: MemoryRecord, limits: MemoryLimits): [Memory, Memory] | undefined {
  return record.memories.length > limits.maxMemories ? [record.memories[0]!, record.memories[1]!] : undefined
}

/** `a` and `b` replaced by one memory, carried only where both could be (undefined if either is gone). */
export function withMerged(record: MemoryRecord, a: Memory, b: Memory, text: string, by: Memory['by'], now: number): MemoryRecord | undefined {
  const same = (x: Memory, y: Memory) => x.at === y.at && x.text === y.text && x.sources.join() === y.sources.join()
  const ia = record.memories.findIndex((m) => same(m, a))
  const ib = record.memories.findIndex((m) => same(m, b))
  if (ia < 0 || ib < 0 || !text.trim()) return undefined
  const merged: Memory = { text, secrets: [...new Set([...a.secrets, ...b.secrets])], sources: [...a.sources, ...b.sources], at: Math.max(a.at, b.at), by: a.by === 'model' && b.by === 'model' ? by : 'fallback' }
  const memories = record.memories.flatMap((m, i) => (i === ia ? [merged] : i === ib ? [] : [m]))
  return { ...record, memories, updated: now }
}

function sameVars(a: Readonly<Record<string, VarValue>>, b: Readonly<Record<string, VarValue>>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k])
}

/** What two memories say, as the `previous` of the summary that merges them. */
export const MERGE_SEPARATOR = '；'

/**
 * The engine's own memory of a conversation, when the model would not write one: the player's
 * lines, clipped to the budget (the scripted provider's summary), so nothing is lost.
 */
export function fallbackText(npc: Npc, p: Pick<PendingMemory, 'entries' | 'previous'>, limits: MemoryLimits): string {
  return scriptedSummary({ purpose: 'memory', npc, entries: p.entries, previous: p.previous, maxTokens: limits.memoryTokens, model: npc.model, signal: AbortSignal.abort() }).text
}

export function mergedFallback(npc: Npc, a: Memory, b: Memory, limits: MemoryLimits): string {
  return scriptedSummary({ purpose: 'memory', npc, entries: [], previous: `${a.text}${MERGE_SEPARATOR}${b.text}`, maxTokens: limits.memoryTokens, model: npc.model, signal: AbortSignal.abort() }).text
}

function memoryOf(p: PendingMemory, text: string, by: Memory['by'], now: number): Memory {
  return { text, secrets: [...p.secrets], sources: [p.source], at: now, by, ...(p.version !== undefined && { version: p.version }) }
}

/** The memory in its place: newest last, replacing the earlier memory of the same conversation. */
function placed(memories: readonly Memory[], m: Memory): Memory[] {
  return [...memories.filter((x) => !(x.sources.length === 1 && x.sources[0] === m.sources[0])), m]
}
