/**
 * The steps of the action loop inside one turn, as pure functions the machine's `acting` state
 * calls: open a round from the model's tool calls, check each call against the state the turn's
 * earlier calls left, record the game's decisions, and close the round into history entries.
 * Effects are collected here and applied to the conversation only when the turn ends.
 */
import type { Npc, NpcAction } from '../content/schema.ts'
import type { GameState } from '../conditions/types.ts'
import type { GlmToolCall } from '../glm/types.ts'
import type { HistoryEntry } from '../prompt/history.ts'
import { offeredActions, parseCall } from './tools.ts'
import type { ActionCall, ActionOutcome, ActionRecord } from './types.ts'

export type Effect = NonNullable<NpcAction['effect']>

/** One round: the model's tool-call message and the calls still waiting for a check or a decision. */
export interface Round {
  request: HistoryEntry
  waiting: readonly GlmToolCall[]
  results: readonly HistoryEntry[]
}

/** Everything the turn's actions have done so far. */
export interface ActionLog {
  /** Closed rounds: tool-call messages and their results, in order, for history. */
  readonly entries: readonly HistoryEntry[]
  readonly records: readonly ActionRecord[]
  /** Effects of the calls the game carried out, applied when the turn ends. */
  readonly effects: readonly Effect[]
}

export const emptyLog: ActionLog = { entries: [], records: [], effects: [] }

export function openRound(text: string, toolCalls: readonly GlmToolCall[]): Round {
  return { request: { role: 'assistant', content: text, tool_calls: [...toolCalls] }, waiting: toolCalls, results: [] }
}

/** The flags a state sees once the effects collected so far are counted. */
export function flagsWithEffects(flags: readonly string[], effects: readonly Effect[]): readonly string[] {
  const extra = effects.flatMap((e) => (e.set_flag && !flags.includes(e.set_flag) ? [e.set_flag] : []))
  return extra.length ? [...flags, ...new Set(extra)] : flags
}

/**
 * Checks the next waiting call against the actions offered NOW, that is in the state the turn's
 * earlier calls left (an action whose `when` says "not twice" is refused the second time).
 */
export function checkCall(npc: Npc, state: GameState, call: GlmToolCall): { ok: true; call: ActionCall; action: NpcAction } | { ok: false; reason: string } {
  const offered = offeredActions(npc, state)
  const name = call.function.name
  if (!offered.some((a) => a.name === name) && npc.actions.some((a) => a.name === name)) {
    return { ok: false, reason: `"${name}" is not available now: its condition does not hold (it may have just been done)` }
  }
  const check = parseCall(offered, name, call.function.arguments)
  if (!check.ok) return check
  return { ok: true, call: { id: call.id, name: check.action.name, args: check.args }, action: check.action }
}

function answer(round: Round, log: ActionLog, content: unknown, record: ActionRecord, effect?: Effect): { round: Round; log: ActionLog } {
  const [call, ...waiting] = round.waiting
  return {
    round: { ...round, waiting, results: [...round.results, { role: 'tool', tool_call_id: call!.id, content: JSON.stringify(content) }] },
    log: { ...log, records: [...log.records, record], effects: effect ? [...log.effects, effect] : log.effects },
  }
}

/** The head call was not valid: the model is told why, nothing happens. */
export function rejectCall(round: Round, log: ActionLog, reason: string): { round: Round; log: ActionLog } {
  return answer(round, log, { status: 'error', error: reason }, { name: round.waiting[0]!.function.name, status: 'invalid', reason })
}

/** The game's decision on the head call. An action carried out contributes its effect. */
export function decideCall(round: Round, log: ActionLog, call: ActionCall, action: NpcAction, outcome: ActionOutcome): { round: Round; log: ActionLog } {
  if (!outcome.ok) return answer(round, log, { status: 'refused', reason: outcome.reason }, { name: call.name, args: call.args, status: 'refused', reason: outcome.reason })
  return answer(round, log, { status: 'done', ...(outcome.result !== undefined && { result: outcome.result }) }, { name: call.name, args: call.args, status: 'done' }, action.effect)
}

/**
 * The round as history entries. Calls still waiting (the turn was cut short) are answered as
 * refused, so every tool call has its result, as GLM requires.
 */
export function closeRound(round: Round, log: ActionLog, reason = 'the turn ended before the game decided'): ActionLog {
  const rest = round.waiting.map((c): HistoryEntry => ({ role: 'tool', tool_call_id: c.id, content: JSON.stringify({ status: 'refused', reason }) }))
  return { ...log, entries: [...log.entries, round.request, ...round.results, ...rest] }
}

export function carriedOut(log: ActionLog): boolean {
  return log.records.some((r) => r.status === 'done')
}
