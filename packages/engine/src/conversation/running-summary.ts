/**
 * When the history outgrows its budget, which exchanges fold into the running summary, the request
 * that folds them, and how the answer lands. Pure: the machine decides when, the summariser
 * (summariser.ts) makes the call off the player's path.
 *
 * A fold takes the oldest exchanges not yet summarised, whole, until what is left fits half the
 * window: so a summary call comes once per half a window of talk, not every turn, and the window
 * never has to drop anything while the next one is written.
 */
import type { Npc } from '../content/schema.ts'
import { clipToTokens } from '../prompt/summary.ts'
import type { SummaryRequest } from '../providers/types.ts'
import type { ConversationData } from './state.ts'

/** The exchanges one summary call folds: history entries `[from, to)`, `from` where the current summary ends. */
export interface SummarySpan {
  from: number
  to: number
  /** The exchanges among them. */
  turns: number
}

/** The background job's bookkeeping: not saved (a restored conversation starts it afresh). */
export interface SummaryJob {
  /** The call in flight, if any. */
  pending: SummarySpan | undefined
  /** Consecutive failed calls. */
  failures: number
  /** No new call before this many committed turns (backoff after failures). */
  retryAtTurn: number
}

export const idleSummaryJob: SummaryJob = { pending: undefined, failures: 0, retryAtTurn: 0 }

/** Turns to wait after the nth consecutive failure: 1, 2, 4, 8, then every 16 turns, for as long as it fails. */
export const MAX_BACKOFF_TURNS = 16
export function backoffTurns(failures: number): number {
  return Math.min(MAX_BACKOFF_TURNS, 2 ** Math.max(0, failures - 1))
}

export function summariesOn(npc: Npc): boolean {
  return (npc.history.summary_tokens ?? 0) > 0
}

/**
 * The exchanges to fold now, if the history no longer fits its window: the oldest not yet
 * summarised, whole, leaving the newest that fit half the window.
 */
export function dueSpan(npc: Npc, data: ConversationData): SummarySpan | undefined {
  if (!summariesOn(npc)) return undefined
  const from = data.summary?.covers ?? 0
  const budget = npc.history.max_tokens
  if (data.history.fitsFrom(budget, from)) return undefined
  const to = data.history.foldPoint(from, Math.floor(budget / 2))
  if (to <= from) return undefined
  const turns = data.history.slice(from, to).filter((e) => e.role === 'user').length
  return { from, to, turns }
}

/** Whether a call may start now: none in flight, and past any backoff. */
export function mayStart(job: SummaryJob, data: ConversationData): boolean {
  return job.pending === undefined && data.turns >= job.retryAtTurn
}

/** The request for a span: what was said in it, and the summary so far. Nothing else goes in. */
export function spanRequest(npc: Npc, data: ConversationData, span: SummarySpan, userId: string | undefined): Omit<SummaryRequest, 'signal'> {
  return {
    purpose: 'history',
    npc: { id: npc.id, name: npc.name },
    ...(data.summary && { previous: data.summary.text }),
    entries: data.history.slice(span.from, span.to),
    maxTokens: npc.history.summary_tokens,
    model: npc.model,
    ...(userId !== undefined && { userId }),
  }
}

/**
 * The data with a finished summary in place. It covers entries up to a known point of an
 * append-only history, so it applies however many turns were said meanwhile; one written from a
 * summary that has since been replaced is dropped (undefined).
 */
export function withSummary(npc: Npc, data: ConversationData, span: SummarySpan, text: string): ConversationData | undefined {
  if ((data.summary?.covers ?? 0) !== span.from || span.to > data.history.length) return undefined
  const clipped = clipToTokens(text, npc.history.summary_tokens)
  if (clipped === '') return undefined
  return { ...data, summary: { text: clipped, covers: span.to, turns: (data.summary?.turns ?? 0) + span.turns } }
}
