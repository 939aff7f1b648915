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
  /** Gated lore it sent (source ids), its carried memories' included: its memory is told only where those gates hold. */
  gatedLore?: readonly string[] | undefined
  /**
   * The unlocks and variables it started with from the record. The record takes only what the
   * conversation changed itself: an unlock it inherited and the game has since reset stays reset,
   * and a variable it never moved keeps the record's value. Without it, everything it holds is taken.
   */
  inherited?: { readonly unlocked: readonly string[]; readonly vars: Readonly<Record<string, VarValue>> } | undefined
}

/** The conversation's unlocks and variables taken into the record, and its transcript set to be summarised. */
export function withFinished(record: MemoryRecord, npc: Npc, c: FinishedConversation, limits: MemoryLimits, now: number): MemoryRecord | undefined {
  if (c.startedAt < record.since) return undefined
  const taken = [...record.pending.filter((p) => p.source === c.source), ...record.memories.filter((m) => m.sources.length === 1 && m.sources[0] === c.source)]
  if (c.version !== undefined && taken.some((t) => t.version !== undefined && t.version >= c.version!)) return undefined
  const declared = new Set(npc.secrets.map((s) => s.id))
  const inherited = new Set(c.inherited?.unlocked ?? [])
  const earned = c.unlocked.filter((id) => declared.has(id) && !inherited.has(id))
  const unlocked = [...record.unlocked.filter((id) => declared.has(id)), ...earned.filter((id) => !record.unlocked.includes(id))]
  const vars = takenVars(record.updated === 0 ? defaultVars(npc) : record.vars, c)
  const entries = History.from(c.history).recent(limits.transcriptTokens).map((e) => ({ ...e }))
  const known = record.pending.some((p) => p.source === c.source) || record.memories.some((m) => m.sources.includes(c.source))
  let pending = record.pending.filter((p) => p.source !== c.source)
  let memories = record.memories
  if (entries.length || c.summary) {
    // Its secrets are every one unlocked in it (inherited ones too, even if the record has reset
    // them since: the NPC may have told those facts) and the record's (the next conversation starts with those).
    const secrets = [...new Set([...unlocked, ...c.unlocked.filter((id) => declared.has(id))])]
    const lore = [...new Set(c.gatedLore ?? [])]
    pending = [...pending, { source: c.source, entries, ...(c.summary && { previous: c.summary }), secrets, ...(lore.length && { lore }), attempts: 0, retryAt: now, ...(c.version !== undefined && { version: c.version }) }]
    // Too many waiting: the oldest is written without the model now rather than dropped.
    while (pending.length > limits.maxPending) {
      const [oldest, ...rest] = pending
      memories = placed(memories, memoryOf(oldest!, fallbackText(npc, oldest!, limits), 'fallback', now))
      pending = rest
    }
  }
  const said = entries.length > 0 || !!c.summary
  // A conversation where nothing was said and nothing earned (a page opened and left) leaves no trace.
  if (!said && unlocked.length === record.unlocked.length && sameVars(record.updated === 0 ? defaultVars(npc) : record.vars, vars)) return undefined
  return { ...record, unlocked, vars, vars_version: c.varsVersion, pending, memories, conversations: record.conversations + (known || !said ? 0 : 1), updated: now }
}

/** The record's variables with those the conversation moved from where it started (all of its own, if it does not say where it started). */
function takenVars(current: Readonly<Record<string, VarValue>>, c: FinishedConversation): Record<string, VarValue> {
  if (!c.inherited) return { ...c.vars }
  const from = c.inherited.vars
  const out: Record<string, VarValue> = { ...current }
  for (const [name, value] of Object.entries(c.vars)) {
    const moved = !Object.hasOwn(from, name) || from[name] !== value
    if (moved || !Object.hasOwn(current, name)) out[name] = value
  }
  return out
}

/** The summary of `source` written as a memory (undefined if it no longer waits: written elsewhere, or forgotten). */
export function withWritten(record: MemoryRecord, source: string, text: string, by: Memory['by'], now: number): MemoryRecord | undefined {
  const p = record.pending.find((x) => x.source === source)
  if (!p || !text.trim()) return undefined
  return { ...record, pending: record.pending.filter((x) => x !== p), memories: placed(record.memories, memoryOf(p, text, by, now)), updated: now }
}

/** A summary never asked for (no slot free): tried again at `retryAt`, the attempt not counted. */
export function withPostponed(record: MemoryRecord, source: string, retryAt: number): MemoryRecord | undefined {
  const p = record.pending.find((x) => x.source === source)
  if (!p || p.retryAt >= retryAt) return undefined
  return { ...record, pending: record.pending.map((x) => (x === p ? { ...p, retryAt } : x)) }
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

/**
 * The oldest memories to merge into one when the record holds more than it may: enough that half
 * the limit is left (the merged one included, and never fewer than two, so the newest memory keeps
 * its own words), so one summary call buys room for several conversations instead of one.
 */
export function mergeCandidates(record: MemoryRecord, limits: MemoryLimits): Memory[] | undefined {
  const n = record.memories.length
  if (n <= limits.maxMemories) return undefined
  const left = Math.max(2, Math.floor(limits.maxMemories / 2))
  return record.memories.slice(0, n - left + 1)
}

/** `group` replaced by one memory, carried only where each of them could be (undefined if any is gone). */
export function withMerged(record: MemoryRecord, group: readonly Memory[], text: string, by: Memory['by'], now: number): MemoryRecord | undefined {
  const same = (x: Memory, y: Memory) => x.at === y.at && x.text === y.text && x.sources.join() === y.sources.join()
  const at = group.map((g) => record.memories.findIndex((m) => same(m, g)))
  if (group.length < 2 || at.some((i) => i < 0) || new Set(at).size !== at.length || !text.trim()) return undefined
  const lore = [...new Set(group.flatMap((g) => g.lore ?? []))]
  const merged: Memory = {
    text,
    secrets: [...new Set(group.flatMap((g) => g.secrets))],
    ...(lore.length && { lore }),
    sources: group.flatMap((g) => g.sources),
    at: Math.max(...group.map((g) => g.at)),
    by: group.every((g) => g.by === 'model') ? by : 'fallback',
  }
  const first = Math.min(...at)
  const memories = record.memories.flatMap((m, i) => (i === first ? [merged] : at.includes(i) ? [] : [m]))
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

export function mergedFallback(npc: Npc, group: readonly Memory[], limits: MemoryLimits): string {
  return scriptedSummary({ purpose: 'memory', npc, entries: [], previous: group.map((m) => m.text).join(MERGE_SEPARATOR), maxTokens: limits.memoryTokens, model: npc.model, signal: AbortSignal.abort() }).text
}

function memoryOf(p: PendingMemory, text: string, by: Memory['by'], now: number): Memory {
  return { text, secrets: [...p.secrets], ...(p.lore?.length && { lore: [...p.lore] }), sources: [p.source], at: now, by, ...(p.version !== undefined && { version: p.version }) }
}

/** The memory in its place: newest last, replacing the earlier memory of the same conversation. */
function placed(memories: readonly Memory[], m: Memory): Memory[] {
  return [...memories.filter((x) => !(x.sources.length === 1 && x.sources[0] === m.sources[0])), m]
}
