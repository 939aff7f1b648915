/**
 * The conversation machine: it owns the whole turn. `awaiting` the player; a line is answered in
 * `busy` (`preparing` lore, then `calling` the model: `requesting`, `streaming`, `retrying`; then
 * `acting` on the calls the model made, one decision at a time, and calling again); `ended`.
 * Leaving a state ends its work: `preparing` and `deciding` stop what they invoked, and leaving
 * `calling` tells the conversation's one caller to abort the call, after which the caller never
 * reports on it; so a cancelled or ended turn can never be answered late. Timeouts are `after`
 * transitions; the game's decisions are events. Between turns (entering `dispatch`, or a committed
 * turn going straight back to `awaiting`), a history
 * that outgrew its window starts a background summary call (running-summary.ts, summariser.ts):
 * its answer is a context update whenever it lands, and `ended` cancels it.
 */
import { and, assertEvent, assign, emit, enqueueActions, sendTo, setup } from 'xstate'
import type { Npc, NpcAction } from '../content/schema.ts'
import type { GameState } from '../conditions/types.ts'
import type { GlmMessage } from '../glm/types.ts'
import { isGlmError } from '../glm/errors.ts'
import type { GlmTool } from '../actions/tools.ts'
import { offeredActions, toolOf } from '../actions/tools.ts'
import type { ActionCall, ActionOutcome, ActionSettings } from '../actions/types.ts'
import { carriedOut, checkCall, closeRound, decideCall, emptyLog, flagsWithEffects, openRound, rejectCall, type ActionLog, type Round } from '../actions/round.ts'
import { asOutcome, decideActor } from '../actions/decide.ts'
import type { EmbeddingOptions } from '../lore/embeddings.ts'
import { needsEmbeddings } from '../lore/retrieve.ts'
import { ProviderFailure, type Provider, type ProviderReply } from '../providers/types.ts'
import { callActor, loreActor, type CallEvent } from './actors.ts'
import { isExitPhrase } from '../content/exit-phrases.ts'
import { prepareTurn, type PreparedTurn } from './prepare.ts'
import { commitTurn, failTurn, giveItem, setFlag, setVar, type ConversationData } from './state.ts'
import { applyVarEffects } from '../vars/values.ts'
import type { VarValue } from '../content/schema.ts'
import { describeFailure, type TurnFailure, type TurnOutcome } from './results.ts'
import { backoffTurns, dueSpan, idleSummaryJob, mayStart, spanRequest, withSummary, type SummaryJob } from './running-summary.ts'
import { summariserActor, type SummaryCall, type SummaryEvent } from './summariser.ts'

export interface QueuedLine {
  id: number
  text: string
  stream: boolean
}

/** The turn in flight: what it sends next and what its actions have done so far. */
export interface TurnInFlight {
  id: number
  stream: boolean
  prepared: PreparedTurn
  /** The next call's request: grows by a round of tool calls and results after each `acting`. */
  messages: GlmMessage[]
  tools: GlmTool[]
  /** Action rounds closed so far. */
  rounds: number
  round: Round | undefined
  log: ActionLog
  deciding: { call: ActionCall; action: NpcAction } | undefined
  /** The model said the prompt did not fit its window, and the turn is being asked again, smaller. */
  trimmed: boolean
  /** A thinking model's reasoning behind the round being decided: sent back with its results, never kept. */
  reasoning: string | undefined
}

export interface ConversationContext {
  npc: Npc
  provider: Provider
  actions: ActionSettings
  embeddings: EmbeddingOptions | undefined
  userId: string | undefined
  data: ConversationData
  queue: QueuedLine[]
  turn: TurnInFlight | undefined
  /** The messages of the last call sent to the provider, for inspection panels. */
  lastRequest: GlmMessage[] | undefined
  /** Ids of the lore chunks in that call. */
  lastLore: string[]
  /** The running summary's background call (running-summary.ts). */
  summaries: SummaryJob
  summaryTimeoutMs: number
}

export interface ConversationInput {
  npc: Npc
  provider: Provider
  actions?: ActionSettings | undefined
  embeddings?: EmbeddingOptions | undefined
  userId?: string | undefined
  data: ConversationData
  /** A summary call still unanswered after this long is given up and retried later (default 60 s). */
  summaryTimeoutMs?: number | undefined
}

export type ConversationEvent =
  | { type: 'player.say'; id: number; text: string; stream: boolean }
  | { type: 'game.give'; item: string; count: number }
  | { type: 'game.flag'; name: string; on: boolean }
  | { type: 'game.var'; name: string; value: VarValue }
  | { type: 'game.end' }
  | { type: 'turn.cancel'; id: number }
  | { type: 'action.resolve'; callId: string; outcome: ActionOutcome }
  | CallEvent
  | SummaryEvent

export type ConversationEmitted =
  | { type: 'request.sent'; id: number; messages: GlmMessage[]; lore: string[] }
  | { type: 'turn.delta'; id: number; text: string }
  | { type: 'turn.retrying'; id: number; attempt: number; error: TurnFailure }
  | { type: 'turn.completed'; id: number; result: TurnOutcome }
  | { type: 'turn.rejected'; id: number; reason: 'ended' | 'aborted' }
  | { type: 'secret.unlocked'; secret: string; by: 'give' | 'flag' | 'var' | 'turn' | 'action' }
  | { type: 'action.requested'; id: number; call: ActionCall }
  /** Older exchanges were folded into the running summary: it now covers `turns` exchanges. */
  | { type: 'summary.updated'; turns: number }
  /** A summary call failed or timed out; nothing is lost, and it is tried again `retryInTurns` turns later. */
  | { type: 'summary.error'; attempt: number; retryInTurns: number; error: TurnFailure }


/** Conditions as the turn's carried-out actions left them: gifts as they are now, flags with the effects so far. */
function workingState(context: ConversationContext): GameState {
  const turn = context.turn!
  return { ...turn.prepared.state, items: context.data.items, flags: flagsWithEffects(context.data.flags, turn.log.effects), vars: applyVarEffects(context.npc, context.data.vars, turn.log.effects) }
}

function nextTools(context: ConversationContext, rounds: number): GlmTool[] {
  return rounds < context.npc.max_action_rounds ? offeredActions(context.npc, workingState(context)).map(toolOf) : []
}

/**
 * Ends the turn in history and data. A reply commits the exchange. Without one (a failure, a
 * cancel, the end), the turn leaves nothing unless the game carried out an action: that is a
 * fact of the game's world, so its effects apply and history records the whole exchange with
 * the NPC's fallback line as its answer.
 */
function settle(context: ConversationContext, reply: string | undefined, failed: boolean): { data: ConversationData; byAction: string[]; byTurn: string[] } {
  const turn = context.turn!
  const log = turn.round ? closeRound(turn.round, turn.log) : turn.log
  if (reply === undefined && !carriedOut(log)) return { data: failed ? failTurn(context.data) : context.data, byAction: [], byTurn: [] }
  let data = context.data
  const byAction: string[] = []
  const vars = applyVarEffects(context.npc, data.vars, log.effects)
  if (vars !== data.vars) {
    const change = unlockFromVars(context.npc, data, vars)
    data = change.data
    byAction.push(...change.unlocked)
  }
  for (const effect of log.effects) {
    if (!effect.set_flag) continue
    const change = setFlag(context.npc, data, effect.set_flag, true)
    data = change.data
    byAction.push(...change.unlocked)
  }
  const committed = commitTurn(context.npc, data, turn.prepared, reply ?? context.npc.lines.fallback, log.entries)
  const failures = failed ? context.data.failures + 1 : reply === undefined ? context.data.failures : 0
  return { data: failures === committed.data.failures ? committed.data : { ...committed.data, failures }, byAction, byTurn: committed.unlocked }
}

/** Variables changed by the turn's actions, with what that unlocks (for `unlocked:` chains and lore; secrets read only game-owned variables). */
function unlockFromVars(npc: ConversationContext['npc'], data: ConversationData, vars: ConversationData['vars']) {
  let out = { data, unlocked: [] as string[] }
  for (const [name, value] of Object.entries(vars)) {
    if (out.data.vars[name] === value) continue
    const change = setVar(npc, out.data, name, value)
    out = { data: change.data, unlocked: [...out.unlocked, ...change.unlocked] }
  }
  return out
}

/** The summary call to start now, if one is due and may start (none in flight, past any backoff). */
function summaryToStart(context: ConversationContext, data: ConversationData, job: SummaryJob): SummaryCall | undefined {
  if (!context.provider.summarize || !mayStart(job, data)) return undefined
  const span = dueSpan(context.npc, data)
  if (!span) return undefined
  return { provider: context.provider, span, request: spanRequest(context.npc, data, span, context.userId), timeoutMs: context.summaryTimeoutMs }
}

export const conversationMachine = setup({
  types: {
    context: {} as ConversationContext,
    events: {} as ConversationEvent,
    input: {} as ConversationInput,
    emitted: {} as ConversationEmitted,
  },
  actors: { call: callActor, lore: loreActor, decide: decideActor, summarise: summariserActor },
  delays: {
    actionTimeout: ({ context }) => context.actions.timeoutMs ?? 10_000,
  },
  guards: {
    queueEmpty: ({ context }) => context.queue.length === 0,
    isEmptyLine: (_, line: QueuedLine) => line.text.trim() === '',
    isExitLine: ({ context }, line: QueuedLine) => isExitPhrase(context.npc, line.text),
    needsLore: ({ context }) => !!context.npc.lore && needsEmbeddings(context.npc, context.embeddings),
    cancelsTurn: ({ context, event }) => {
      assertEvent(event, 'turn.cancel')
      return context.turn?.id === event.id
    },
    /** The common turn: a spoken reply, no action ended the conversation, no line waits. */
    plainReply: ({ context, event }) => {
      assertEvent(event, 'call.done')
      return !event.reply.toolCalls?.length && context.queue.length === 0 && !context.turn!.log.effects.some((e) => e.end_conversation)
    },
    asksToAct: ({ event }) => {
      assertEvent(event, 'call.done')
      return !!event.reply.toolCalls?.length
    },
    /** The model called actions although none were offered any more (the round cap): it must speak. */
    actsPastCap: ({ context, event }) => {
      assertEvent(event, 'call.done')
      return !!event.reply.toolCalls?.length && context.turn!.tools.length === 0
    },
    turnEnds: ({ context }) => context.turn!.log.effects.some((e) => e.end_conversation),
    failureEnds: ({ context }) => context.data.failures + 1 >= context.npc.max_failures || (carriedOut(context.turn!.log) && context.turn!.log.effects.some((e) => e.end_conversation)),
    contextExceeded: ({ context, event }) => {
      assertEvent(event, 'call.failed')
      const error = event.error
      return isGlmError(error) && error.kind === 'context_exceeded' && !context.turn!.trimmed
    },
    roundDone: ({ context }) => context.turn!.round!.waiting.length === 0,
    headCallInvalid: ({ context }) => !checkCall(context.npc, workingState(context), context.turn!.round!.waiting[0]!).ok,
    hasHandler: ({ context }) => !!context.actions.handler,
    answersDecision: ({ context, event }) => {
      assertEvent(event, 'action.resolve')
      return context.turn?.deciding?.call.id === event.callId
    },
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) => {
        assertEvent(event, 'player.say')
        return [...context.queue, { id: event.id, text: event.text, stream: event.stream }]
      },
    }),
    dropHead: assign({ queue: ({ context }) => context.queue.slice(1) }),
    answerNudge: emit(({ context }, line: QueuedLine) => ({ type: 'turn.completed' as const, id: line.id, result: { kind: 'nudge' as const, text: context.npc.lines.nudge, unlocked: [] } })),
    answerFarewell: emit(({ context }, line: QueuedLine) => ({ type: 'turn.completed' as const, id: line.id, result: { kind: 'farewell' as const, text: context.npc.lines.farewell, unlocked: [] } })),
    /** A turn that retrieves its lore first (`preparing`). */
    beginTurn: assign(({ context }, line: QueuedLine) => ({ turn: newTurn(context, line) })),
    /** A turn that calls at once. */
    beginCall: assign(({ context }, line: QueuedLine) => requested(newTurn(context, line))),
    announceRequest: emit(({ context }) => ({ type: 'request.sent' as const, id: context.turn!.id, messages: context.turn!.messages, lore: context.turn!.prepared.lore })),
    startCall: sendTo('caller', ({ context }) => {
      const turn = context.turn!
      const p = turn.prepared
      return { type: 'call' as const, input: { provider: context.provider, stream: turn.stream, turn: { messages: turn.messages, model: context.npc.model, playerLine: p.line, script: p.script, revealed: p.revealed, tools: turn.tools, userId: context.userId } } }
    }),
    emitDelta: emit(({ context, event }) => {
      assertEvent(event, 'call.delta')
      return { type: 'turn.delta' as const, id: context.turn!.id, text: event.text }
    }),
    emitRetry: emit(({ context, event }) => {
      assertEvent(event, 'call.retry')
      return { type: 'turn.retrying' as const, id: context.turn!.id, attempt: event.info.attempt, error: describeFailure(event.info.error) }
    }),
    /** One more try after `context_exceeded`, smaller (prompt/window.ts); this turn's tool exchange is kept. */
    trimWindow: assign(({ context }) => {
      const turn = context.turn!
      return requested({ ...turn, messages: [...turn.prepared.halved(), ...turn.messages.slice(turn.prepared.messages.length)], trimmed: true })
    }),
    openRound: assign(({ context, event }) => {
      assertEvent(event, 'call.done')
      return { turn: { ...context.turn!, round: openRound(event.reply.text, event.reply.toolCalls!), reasoning: event.reply.reasoning } }
    }),
    rejectHead: assign(({ context }) => {
      const turn = context.turn!
      const check = checkCall(context.npc, workingState(context), turn.round!.waiting[0]!)
      const next = rejectCall(turn.round!, turn.log, check.ok ? 'not available now' : check.reason)
      return { turn: { ...turn, ...next } }
    }),
    requestDecision: enqueueActions(({ context, enqueue }) => {
      const turn = context.turn!
      const check = checkCall(context.npc, workingState(context), turn.round!.waiting[0]!)
      if (!check.ok) return
      enqueue.assign({ turn: { ...turn, deciding: { call: check.call, action: check.action } } })
      enqueue.emit({ type: 'action.requested', id: turn.id, call: check.call })
    }),
    decide: assign(({ context }, params: { outcome: ActionOutcome }) => {
      const turn = context.turn!
      const { call, action } = turn.deciding!
      return { turn: { ...turn, ...decideCall(turn.round!, turn.log, call, action, params.outcome), deciding: undefined } }
    }),
    closeRound: assign(({ context }) => {
      const turn = context.turn!
      const log = closeRound(turn.round!, turn.log)
      const added = log.entries.slice(turn.log.entries.length)
      // Reasoning goes back with the results within this turn only (GLM's docs ask for it); history keeps the bare call.
      const sent = turn.reasoning && added[0]?.role === 'assistant' ? [{ ...added[0], reasoning_content: turn.reasoning }, ...added.slice(1)] : added
      const messages = [...turn.messages, ...sent]
      const rounds = turn.rounds + 1
      const next = { ...turn, log, round: undefined, rounds, messages, reasoning: undefined }
      return requested({ ...next, tools: nextTools({ ...context, turn: next }, rounds) })
    }),
    /**
     * Commits the reply. Going straight back to `awaiting` (`summary`), it also starts a due summary
     * call as `startSummary` would, after the turn's events: one action builder per turn, not two.
     */
    commit: enqueueActions(({ context, event, enqueue }, params: { summary: boolean }) => {
      assertEvent(event, 'call.done')
      const turn = context.turn!
      const { data, byAction, byTurn } = settle(context, event.reply.text, false)
      const call = params.summary ? summaryToStart(context, data, context.summaries) : undefined
      enqueue.assign(call ? { data, turn: undefined, summaries: { ...context.summaries, pending: call.span } } : { data, turn: undefined })
      for (const secret of byAction) enqueue.emit({ type: 'secret.unlocked', secret, by: 'action' })
      for (const secret of byTurn) enqueue.emit({ type: 'secret.unlocked', secret, by: 'turn' })
      enqueue.emit({ type: 'turn.completed', id: turn.id, result: replyResult(event.reply, [...byAction, ...byTurn], turn) })
      if (call) enqueue.sendTo('summariser', { type: 'summarise', call })
    }),
    failTurn: enqueueActions(({ context, enqueue }, params: { error: unknown }) => {
      const turn = context.turn!
      const { data, byAction, byTurn } = settle(context, undefined, true)
      enqueue.assign({ data, turn: undefined })
      for (const secret of byAction) enqueue.emit({ type: 'secret.unlocked', secret, by: 'action' })
      for (const secret of byTurn) enqueue.emit({ type: 'secret.unlocked', secret, by: 'turn' })
      enqueue.emit({
        type: 'turn.completed',
        id: turn.id,
        result: {
          kind: 'fallback',
          text: context.npc.lines.fallback,
          unlocked: [...byAction, ...byTurn],
          error: describeFailure(params.error),
          ...(turn.log.records.length > 0 && { actions: [...turn.log.records] }),
          ...(turn.prepared.loreFallback && { loreFallback: turn.prepared.loreFallback }),
        },
      })
    }),
    /**
     * The turn stops without an answer (cancelled, or the conversation ended). These are the only
     * transitions that leave `calling` before the caller has answered, so this is where its call is
     * aborted (after `call.done` or `call.failed` it holds none); outside `calling` it holds none
     * either and the cancel does nothing. (An exit action on `calling` would run on every turn.)
     */
    abandonTurn: enqueueActions(({ context, enqueue }, params: { reason: 'ended' | 'aborted' }) => {
      const turn = context.turn
      if (!turn) return
      enqueue.sendTo('caller', { type: 'cancel' })
      const { data, byAction, byTurn } = settle(context, undefined, false)
      enqueue.assign({ data, turn: undefined })
      for (const secret of byAction) enqueue.emit({ type: 'secret.unlocked', secret, by: 'action' })
      for (const secret of byTurn) enqueue.emit({ type: 'secret.unlocked', secret, by: 'turn' })
      enqueue.emit({ type: 'turn.rejected', id: turn.id, reason: params.reason })
    }),
    dropQueued: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'turn.cancel')
      if (!context.queue.some((q) => q.id === event.id)) return
      enqueue.assign({ queue: context.queue.filter((q) => q.id !== event.id) })
      enqueue.emit({ type: 'turn.rejected', id: event.id, reason: 'aborted' })
    }),
    give: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'game.give')
      const { data, unlocked } = giveItem(context.npc, context.data, event.item, event.count)
      enqueue.assign({ data })
      for (const secret of unlocked) enqueue.emit({ type: 'secret.unlocked', secret, by: 'give' })
    }),
    flag: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'game.flag')
      const { data, unlocked } = setFlag(context.npc, context.data, event.name, event.on)
      enqueue.assign({ data })
      for (const secret of unlocked) enqueue.emit({ type: 'secret.unlocked', secret, by: 'flag' })
    }),
    setVar: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'game.var')
      const { data, unlocked } = setVar(context.npc, context.data, event.name, event.value)
      enqueue.assign({ data })
      for (const secret of unlocked) enqueue.emit({ type: 'secret.unlocked', secret, by: 'var' })
    }),
    rejectQueue: enqueueActions(({ context, enqueue }) => {
      for (const q of context.queue) enqueue.emit({ type: 'turn.rejected', id: q.id, reason: 'ended' })
      enqueue.assign({ queue: [] })
    }),
    /** Between turns: fold the oldest exchanges into the running summary if the window overflows. */
    startSummary: enqueueActions(({ context, enqueue }) => {
      const call = summaryToStart(context, context.data, context.summaries)
      if (!call) return
      enqueue.assign({ summaries: { ...context.summaries, pending: call.span } })
      enqueue.sendTo('summariser', { type: 'summarise', call })
    }),
    /** A summary landed: it covers a known span of an append-only history, so it applies whatever was said since. */
    applySummary: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'summary.done')
      if (context.summaries.pending?.to !== event.span.to) return
      const data = withSummary(context.npc, context.data, event.span, event.text) ?? context.data
      const call = summaryToStart(context, data, idleSummaryJob)
      enqueue.assign({ data, summaries: call ? { ...idleSummaryJob, pending: call.span } : idleSummaryJob })
      if (data !== context.data) enqueue.emit({ type: 'summary.updated', turns: data.summary!.turns })
      // The talk may have outgrown the window again while this one was written.
      if (call) enqueue.sendTo('summariser', { type: 'summarise', call })
    }),
    /** Nothing is lost: the window stays trimmed as before, and the fold is tried again some turns later. */
    summaryFailed: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'summary.failed')
      if (context.summaries.pending?.to !== event.span.to) return
      const failures = context.summaries.failures + 1
      const wait = backoffTurns(failures)
      enqueue.assign({ summaries: { pending: undefined, failures, retryAtTurn: context.data.turns + wait } })
      enqueue.emit({ type: 'summary.error', attempt: failures, retryInTurns: wait, error: describeFailure(event.error) })
    }),
    cancelSummary: enqueueActions(({ context, enqueue }) => {
      if (!context.summaries.pending) return
      enqueue.sendTo('summariser', { type: 'cancel' })
      enqueue.assign({ summaries: { ...context.summaries, pending: undefined } })
    }),
    rejectLine: emit(({ event }) => {
      assertEvent(event, 'player.say')
      return { type: 'turn.rejected' as const, id: event.id, reason: 'ended' as const }
    }),
  },
}).createMachine({
  id: 'conversation',
  context: ({ input }) => ({ ...input, embeddings: input.embeddings, userId: input.userId, actions: input.actions ?? {}, queue: [], turn: undefined, lastRequest: undefined, lastLore: [], summaries: idleSummaryJob, summaryTimeoutMs: input.summaryTimeoutMs ?? 60_000 }),
  invoke: [
    { id: 'caller', src: 'call' },
    { id: 'summariser', src: 'summarise' },
  ],
  initial: 'dispatch',
  on: {
    'game.give': { actions: 'give' },
    'game.flag': { actions: 'flag' },
    'game.var': { actions: 'setVar' },
    'game.end': { actions: { type: 'abandonTurn', params: { reason: 'ended' } }, target: '.ended' },
    'summary.done': { actions: 'applySummary' },
    'summary.failed': { actions: 'summaryFailed' },
  },
  states: {
    /** Answers the queued lines in order, once a turn is done. */
    dispatch: {
      entry: 'startSummary',
      always: [
        { guard: 'queueEmpty', target: 'awaiting' },
        { guard: { type: 'isEmptyLine', params: head }, actions: [{ type: 'answerNudge', params: head }, 'dropHead'], target: 'dispatch', reenter: true },
        { guard: { type: 'isExitLine', params: head }, actions: [{ type: 'answerFarewell', params: head }, 'dropHead'], target: 'ended' },
        { guard: 'needsLore', actions: [{ type: 'beginTurn', params: head }, 'dropHead'], target: 'busy.preparing' },
        { actions: [{ type: 'beginCall', params: head }, 'dropHead'], target: 'busy.calling' },
      ],
    },
    /** The same choices for a line said while nothing waits, without passing through the queue. */
    awaiting: {
      on: {
        'player.say': [
          { guard: { type: 'isEmptyLine', params: said }, actions: { type: 'answerNudge', params: said } },
          { guard: { type: 'isExitLine', params: said }, actions: { type: 'answerFarewell', params: said }, target: 'ended' },
          { guard: 'needsLore', actions: { type: 'beginTurn', params: said }, target: 'busy.preparing' },
          { actions: { type: 'beginCall', params: said }, target: 'busy.calling' },
        ],
      },
    },
    busy: {
      on: {
        'player.say': { actions: 'enqueue' },
        'turn.cancel': [
          { guard: 'cancelsTurn', actions: { type: 'abandonTurn', params: { reason: 'aborted' } }, target: 'dispatch' },
          { actions: 'dropQueued' },
        ],
      },
      initial: 'calling',
      states: {
        /** Embedding retrieval: the request is finished once the lore is in. */
        preparing: {
          invoke: {
            id: 'lore',
            src: 'lore',
            input: ({ context }) => ({ retrieve: context.turn!.prepared.withLore! }),
            onDone: {
              actions: assign(({ context, event }) => {
                const { messages, lore, gatedLore, halved, loreFallback } = event.output
                return requested({ ...context.turn!, messages, prepared: { ...context.turn!.prepared, messages, lore, gatedLore, halved, loreFallback } })
              }),
              target: 'calling',
            },
            onError: [
              { guard: 'failureEnds', actions: { type: 'failTurn', params: ({ event }) => ({ error: event.error }) }, target: '#conversation.ended' },
              { actions: { type: 'failTurn', params: ({ event }) => ({ error: event.error }) }, target: '#conversation.dispatch' },
            ],
          },
        },
        /** One call to the model, made by the caller on entry; leaving this state aborts it. */
        calling: {
          // The transitions that enter `calling` record its request in their own assign (see `requested`).
          entry: ['announceRequest', 'startCall'],
          initial: 'requesting',
          on: {
            'call.done': [
              // The common turn first, under one guard: the ones below would all say no to it. Straight back to awaiting:
              // a pass through `dispatch` is one more microstep and snapshot per turn.
              { guard: 'plainReply', actions: { type: 'commit', params: { summary: true } }, target: '#conversation.awaiting' },
              { guard: and(['actsPastCap', 'failureEnds']), actions: { type: 'failTurn', params: () => ({ error: actionLoop() }) }, target: '#conversation.ended' },
              { guard: 'actsPastCap', actions: { type: 'failTurn', params: () => ({ error: actionLoop() }) }, target: '#conversation.dispatch' },
              { guard: 'asksToAct', actions: 'openRound', target: 'acting' },
              { guard: 'turnEnds', actions: { type: 'commit', params: { summary: false } }, target: '#conversation.ended' },
              // `dispatch` starts the summary on entry.
              { actions: { type: 'commit', params: { summary: false } }, target: '#conversation.dispatch' },
            ],
            'call.failed': [
              { guard: 'contextExceeded', actions: 'trimWindow', target: 'calling', reenter: true },
              { guard: 'failureEnds', actions: { type: 'failTurn', params: ({ event }) => ({ error: failure(event) }) }, target: '#conversation.ended' },
              { actions: { type: 'failTurn', params: ({ event }) => ({ error: failure(event) }) }, target: '#conversation.dispatch' },
            ],
          },
          states: {
            requesting: {
              on: {
                'call.delta': { actions: 'emitDelta', target: 'streaming' },
                'call.retry': { actions: 'emitRetry', target: 'retrying' },
              },
            },
            retrying: {
              on: {
                'call.delta': { actions: 'emitDelta', target: 'streaming' },
                'call.retry': { actions: 'emitRetry' },
              },
            },
            streaming: {
              on: { 'call.delta': { actions: 'emitDelta' } },
            },
          },
        },
        /** The model asked for actions: each call is checked against the state as the turn left it, then decided by the game. */
        acting: {
          initial: 'checking',
          states: {
            checking: {
              always: [
                { guard: 'roundDone', actions: 'closeRound', target: '#conversation.busy.calling' },
                { guard: 'headCallInvalid', actions: 'rejectHead', target: 'checking', reenter: true },
                { guard: 'hasHandler', actions: 'requestDecision', target: 'deciding.byHandler' },
                { actions: 'requestDecision', target: 'deciding.byGame' },
              ],
            },
            deciding: {
              after: {
                actionTimeout: {
                  actions: { type: 'decide', params: ({ context }) => ({ outcome: { ok: false as const, reason: `the game did not answer within ${context.actions.timeoutMs ?? 10_000} ms` } }) },
                  target: 'checking',
                },
              },
              on: {
                'action.resolve': {
                  guard: 'answersDecision',
                  actions: { type: 'decide', params: ({ event }) => ({ outcome: asOutcome(event.outcome) }) },
                  target: 'checking',
                },
              },
              initial: 'byGame',
              states: {
                byGame: {},
                byHandler: {
                  invoke: {
                    id: 'decide',
                    src: 'decide',
                    input: ({ context }) => ({ call: context.turn!.deciding!.call, handler: context.actions.handler! }),
                    onDone: { actions: { type: 'decide', params: ({ event }) => ({ outcome: asOutcome(event.output) }) }, target: '#conversation.busy.acting.checking' },
                  },
                },
              },
            },
          },
        },
      },
    },
    ended: {
      entry: ['rejectQueue', 'cancelSummary'],
      on: {
        'player.say': { actions: 'rejectLine' },
        // Already ended: nothing to end again (the conversation says so to the game).
        'game.end': {},
      },
    },
  },
})

/**
 * The line a transition is about: the head of the queue, or the line just said (the event is one:
 * it has the line's fields), each as it is, since a turn evaluates these for several guards.
 */
function head({ context }: { context: ConversationContext }): QueuedLine {
  return context.queue[0]!
}

function said({ event }: { event: ConversationEvent }): QueuedLine {
  assertEvent(event, 'player.say')
  return event
}

function newTurn(context: ConversationContext, line: QueuedLine): TurnInFlight {
  const prepared = prepareTurn(context.npc, context.data, line.text, context.embeddings)
  return { id: line.id, stream: line.stream, prepared, messages: prepared.messages, tools: prepared.tools, rounds: 0, round: undefined, log: emptyLog, deciding: undefined, trimmed: false, reasoning: undefined }
}

/**
 * The turn about to enter `calling`, with its request recorded as the last one sent. Every
 * transition into `calling` assigns this rather than `calling` recording it on entry: each assign
 * copies the context and rebuilds the snapshot's state value, one more per turn.
 */
function requested(turn: TurnInFlight): Pick<ConversationContext, 'turn' | 'lastRequest' | 'lastLore'> {
  return { turn, lastRequest: turn.messages, lastLore: turn.prepared.lore }
}

function actionLoop(): ProviderFailure {
  return new ProviderFailure('action_loop', 'the model kept calling actions after the round cap')
}

function failure(event: ConversationEvent): unknown {
  assertEvent(event, 'call.failed')
  return event.error
}

function replyResult(reply: ProviderReply, unlocked: string[], turn: TurnInFlight): TurnOutcome {
  return {
    kind: 'reply',
    text: reply.text,
    unlocked,
    ...(turn.log.records.length > 0 && { actions: [...turn.log.records] }),
    finishReason: reply.finishReason,
    usage: reply.usage,
    requestId: reply.requestId,
    ...(turn.trimmed && { contextTrimmed: true }),
    ...(turn.prepared.loreFallback && { loreFallback: turn.prepared.loreFallback }),
  }
}

