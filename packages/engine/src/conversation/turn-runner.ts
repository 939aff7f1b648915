import type { Npc } from '../content/schema.ts'
import type { NpcAction } from '../content/schema.ts'
import { parseCall } from '../actions/tools.ts'
import type { RetryInfo } from '../glm/client.ts'
import { isGlmError } from '../glm/errors.ts'
import type { GlmMessage } from '../glm/types.ts'
import type { HistoryEntry } from '../prompt/history.ts'
import { ProviderFailure, type Provider, type ProviderReply } from '../providers/types.ts'
import type { PreparedTurn } from './state.ts'

/** A call the model made and the engine validated, for the game to carry out or refuse. */
export interface ActionCall {
  /** The model's tool call id. */
  id: string
  name: string
  args: Record<string, unknown>
}

/** The game's answer. `result` goes back to the model; `reason` tells it why not. */
export type ActionOutcome = { ok: true; result?: unknown } | { ok: false; reason: string }

export interface ActionRecord {
  name: string
  args?: Record<string, unknown> | undefined
  status: 'done' | 'refused' | 'invalid'
  reason?: string | undefined
}

export interface TurnRun {
  reply: ProviderReply
  /** The assistant tool-call messages and tool results of this turn, for history. */
  extra: HistoryEntry[]
  actions: ActionRecord[]
  /** The prompt did not fit the model's window; the turn was answered with the history window halved. */
  trimmed?: boolean
}

export interface TurnHooks {
  signal: AbortSignal
  stream: boolean
  onDelta: (text: string) => void
  onRetry: (info: RetryInfo) => void
  /** The model asked for actions: the machine shows `acting`. */
  onActing: (calls: ActionCall[]) => void
  /** The game's decision on one call. */
  decide: (call: ActionCall) => Promise<ActionOutcome>
  /** A call the game carried out, so its declared effect applies to the conversation. */
  onApplied: (action: NpcAction) => void
}

/**
 * One turn with the model, tool calls included: call, validate the calls, ask the game, send the
 * results back as `tool` messages, call again, until the model speaks. After `max_action_rounds`
 * the tools are withdrawn so it must speak; calling anyway fails the turn, which leaves history
 * as it was.
 */
export async function runTurn(npc: Npc, provider: Provider, turn: PreparedTurn, hooks: TurnHooks): Promise<TurnRun> {
  let messages: GlmMessage[] = turn.messages
  const extra: HistoryEntry[] = []
  const actions: ActionRecord[] = []
  let trimmed = false
  for (let round = 0; ; round++) {
    const tools = round < npc.max_action_rounds ? turn.tools : []
    const ask = () =>
      provider.reply(
        { messages, model: npc.model, playerLine: turn.line, script: turn.script, revealed: turn.revealed, tools, signal: hooks.signal, onRetry: hooks.onRetry },
        hooks.stream ? hooks.onDelta : undefined,
      )
    let reply: ProviderReply
    try {
      reply = await ask()
    } catch (error) {
      // One more try, smaller, when the prompt did not fit; this turn's tool exchange is kept.
      if (trimmed || !turn.halved || !isGlmError(error) || error.kind !== 'context_exceeded') throw error
      trimmed = true
      messages = [...turn.halved(), ...messages.slice(turn.messages.length)]
      reply = await ask()
    }
    if (!reply.toolCalls?.length) return { reply, extra, actions, ...(trimmed && { trimmed }) }
    if (tools.length === 0) throw new ProviderFailure('action_loop', `the model kept calling actions after ${npc.max_action_rounds} rounds`)
    const parsed = reply.toolCalls.map((call) => ({ call, check: parseCall(turn.offered, call.function.name, call.function.arguments) }))
    hooks.onActing(parsed.flatMap(({ call, check }) => (check.ok ? [{ id: call.id, name: check.action.name, args: check.args }] : [])))
    const request: HistoryEntry = { role: 'assistant', content: reply.text, tool_calls: reply.toolCalls }
    // Reasoning goes back with the results within this turn only; history keeps the bare call.
    const sent: GlmMessage = reply.reasoning ? { ...request, reasoning_content: reply.reasoning } : request
    const results: HistoryEntry[] = []
    for (const { call, check } of parsed) {
      let content: unknown
      if (!check.ok) {
        actions.push({ name: call.function.name, status: 'invalid', reason: check.reason })
        content = { status: 'error', error: check.reason }
      } else {
        const outcome = await hooks.decide({ id: call.id, name: check.action.name, args: check.args })
        if (outcome.ok) {
          hooks.onApplied(check.action)
          actions.push({ name: check.action.name, args: check.args, status: 'done' })
          content = { status: 'done', ...(outcome.result !== undefined && { result: outcome.result }) }
        } else {
          actions.push({ name: check.action.name, args: check.args, status: 'refused', reason: outcome.reason })
          content = { status: 'refused', reason: outcome.reason }
        }
      }
      results.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(content) })
    }
    extra.push(request, ...results)
    messages = [...messages, sent, ...results]
  }
}
