import { assign, emit, enqueueActions, fromCallback, sendTo, setup } from 'xstate'
import type { Npc } from '../content/schema.ts'
import type { GlmMessage } from '../glm/types.ts'
import type { RetryInfo } from '../glm/client.ts'
import type { Provider, ProviderReply } from '../providers/types.ts'
import type { EmbeddingOptions } from '../lore/embeddings.ts'
import type { HistoryEntry } from '../prompt/history.ts'
import { runTurn, type ActionCall, type ActionOutcome, type ActionRecord } from './turn-runner.ts'
import { commitTurn, failTurn, giveItem, isExitPhrase, prepareTurn, setFlag, type ConversationData, type PreparedTurn } from './state.ts'
import { describeFailure, type TurnFailure, type TurnResult, type ConversationStateName } from './results.ts'

export interface QueuedLine {
  id: number
  text: string
  stream: boolean
}

export interface ConversationContext {
  npc: Npc
  provider: Provider
  actions: ActionSettings
  embeddings: EmbeddingOptions | undefined
  data: ConversationData
  ended: boolean
  queue: QueuedLine[]
  current: (QueuedLine & { turn: PreparedTurn; endAfter?: boolean }) | undefined
  /** The messages of the last call sent to the provider, for inspection panels. */
  lastRequest: GlmMessage[] | undefined
  /** Ids of the lore chunks in that call. */
  lastLore: string[]
}

export interface ConversationInput {
  npc: Npc
  provider: Provider
  actions?: ActionSettings | undefined
  embeddings?: EmbeddingOptions | undefined
  data: ConversationData
  ended: boolean
}

export type ConversationEvent =
  | { type: 'player.say'; id: number; text: string; stream: boolean }
  | { type: 'game.give'; item: string; count: number }
  | { type: 'game.flag'; name: string; on: boolean }
  | { type: 'game.end' }
  | { type: 'turn.cancel'; id: number }
  | { type: 'turn.prepared'; id: number; messages: GlmMessage[]; lore: string[]; loreFallback?: PreparedTurn['loreFallback'] }
  | { type: 'turn.delta'; id: number; text: string }
  | { type: 'turn.retry'; id: number; info: RetryInfo }
  | { type: 'turn.done'; id: number; reply: ProviderReply; extra?: HistoryEntry[]; actions?: ActionRecord[]; trimmed?: boolean }
  | { type: 'turn.acting'; id: number; calls: ActionCall[] }
  | { type: 'action.applied'; id: number; action: string }
  | { type: 'action.resolve'; callId: string; outcome: ActionOutcome }
  | { type: 'turn.failed'; id: number; error: unknown }

export type ConversationEmitted =
  | { type: 'turn.prepared'; id: number; messages: GlmMessage[]; lore: string[] }
  | { type: 'turn.delta'; id: number; text: string }
  | { type: 'turn.retrying'; id: number; attempt: number; error: TurnFailure }
  | { type: 'turn.completed'; id: number; result: TurnResult }
  | { type: 'turn.rejected'; id: number; reason: 'ended' | 'aborted' }
  | { type: 'secret.unlocked'; secret: string; by: 'give' | 'flag' | 'turn' }
  | { type: 'request.sent'; id: number; messages: GlmMessage[]; lore: string[] }
  | { type: 'action.requested'; id: number; call: ActionCall }

type CallerEvent =
  | { type: 'call'; id: number; turn: PreparedTurn; stream: boolean }
  | { type: 'cancel'; id: number }
  | { type: 'resolve'; callId: string; outcome: ActionOutcome }

export interface ActionSettings {
  /** Decides each action the model asks for; without it the game answers with `resolveAction`. */
  handler?: ((call: ActionCall) => ActionOutcome | Promise<ActionOutcome>) | undefined
  /** How long the game has to answer before the action counts as refused. Default 10 s. */
  timeoutMs?: number | undefined
}

/**
 * Makes the provider calls for one conversation, one turn at a time. It lives as long as the
 * conversation (an actor per turn cost more than the rest of the engine's turn), takes `call`,
 * `cancel` and the game's `resolve`, and answers with events carrying the turn's id, so a late
 * answer to a cancelled turn is recognised and dropped.
 */
const callerActor = fromCallback<CallerEvent, { provider: Provider; npc: Npc; actions: ActionSettings }>(({ sendBack, receive, input }) => {
  let running: { id: number; controller: AbortController } | undefined
  const decisions = new Map<string, (outcome: ActionOutcome) => void>()
  // A game may answer inside its `action.requested` listener, before the call is awaited here.
  const early = new Map<string, ActionOutcome>()
  const decide = (call: ActionCall, signal: AbortSignal): Promise<ActionOutcome> =>
    new Promise((resolve) => {
      const answered = early.get(call.id)
      if (answered) {
        early.delete(call.id)
        return resolve(answered)
      }
      const timeoutMs = input.actions.timeoutMs ?? 10_000
      const timer = setTimeout(() => finish({ ok: false, reason: `the game did not answer within ${timeoutMs} ms` }), timeoutMs)
      const finish = (outcome: ActionOutcome) => {
        clearTimeout(timer)
        decisions.delete(call.id)
        resolve(outcome)
      }
      signal.addEventListener('abort', () => finish({ ok: false, reason: 'cancelled' }), { once: true })
      decisions.set(call.id, finish)
      if (input.actions.handler) {
        Promise.resolve()
          .then(() => input.actions.handler!(call))
          .then(finish, (error: unknown) => finish({ ok: false, reason: `the game failed: ${error instanceof Error ? error.message : String(error)}` }))
      }
    })
  receive((event) => {
    if (event.type === 'resolve') {
      const waiting = decisions.get(event.callId)
      if (waiting) waiting(event.outcome)
      else if (running) early.set(event.callId, event.outcome)
      return
    }
    if (event.type === 'cancel') {
      if (running?.id === event.id) running.controller.abort()
      running = undefined
      return
    }
    const controller = new AbortController()
    const { id } = event
    running = { id, controller }
    early.clear()
    const settle = (e: ConversationEvent) => {
      // Aborting a call that already finished still makes ky and undici build a DOMException with
      // a stack trace, so a settled call is simply forgotten.
      if (running?.id === id) running = undefined
      sendBack(e)
    }
    const prepared = event.turn.withLore
      ? event.turn.withLore().then((done) => {
          sendBack({ type: 'turn.prepared', id, ...done })
          return { ...event.turn, ...done }
        })
      : Promise.resolve(event.turn)
    prepared
      .then((turn) =>
        runTurn(input.npc, input.provider, turn, {
          signal: controller.signal,
          stream: event.stream,
          onDelta: (text) => sendBack({ type: 'turn.delta', id, text }),
          onRetry: (info) => sendBack({ type: 'turn.retry', id, info }),
          onActing: (calls) => sendBack({ type: 'turn.acting', id, calls }),
          decide: (call) => decide(call, controller.signal),
          onApplied: (action) => sendBack({ type: 'action.applied', id, action: action.name }),
        }),
      )
      .then(
        (run) => settle({ type: 'turn.done', id, reply: run.reply, extra: run.extra, actions: run.actions, ...(run.trimmed && { trimmed: true }) }),
        (error: unknown) => settle({ type: 'turn.failed', id, error }),
      )
  })
  return () => running?.controller.abort()
})

const idleState = (ctx: ConversationContext, queued: number): ConversationStateName => (ctx.ended ? 'ended' : queued > 0 ? 'thinking' : 'awaiting')

/**
 * One conversation with one NPC. States a game can show: `awaiting` the player, `thinking`
 * (request sent), `streaming` (reply arriving), `retrying` (a failed attempt is being retried),
 * `acting` (the model asked for actions; the game decides), `ended`. Player lines are queued and
 * answered strictly in order.
 */
export const conversationMachine = setup({
  types: {
    context: {} as ConversationContext,
    events: {} as ConversationEvent,
    input: {} as ConversationInput,
    emitted: {} as ConversationEmitted,
  },
  actors: { caller: callerActor },
  guards: {
    isEnded: ({ context }) => context.ended,
    queueEmpty: ({ context }) => context.queue.length === 0,
    headIsEmpty: ({ context }) => context.queue[0]!.text.trim() === '',
    headIsExit: ({ context }) => isExitPhrase(context.npc, context.queue[0]!.text),
    isCurrent: ({ context, event }) => 'id' in event && context.current?.id === event.id,
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) => (event.type === 'player.say' ? [...context.queue, { id: event.id, text: event.text, stream: event.stream }] : context.queue),
    }),
    answerNudge: enqueueActions(({ context, enqueue }) => {
      const [head, ...rest] = context.queue
      enqueue.assign({ queue: rest })
      enqueue.emit({ type: 'turn.completed', id: head!.id, result: { kind: 'nudge', text: context.npc.lines.nudge, state: idleState(context, rest.length), unlocked: [] } })
    }),
    answerFarewell: enqueueActions(({ context, enqueue }) => {
      const [head, ...rest] = context.queue
      enqueue.assign({ queue: rest, ended: true })
      enqueue.emit({ type: 'turn.completed', id: head!.id, result: { kind: 'farewell', text: context.npc.lines.farewell, state: 'ended', unlocked: [] } })
    }),
    prepareHead: enqueueActions(({ context, enqueue }) => {
      const [head, ...rest] = context.queue
      const turn = prepareTurn(context.npc, context.data, head!.text, context.embeddings)
      enqueue.assign({ queue: rest, current: { ...head!, turn }, lastRequest: turn.withLore ? undefined : turn.messages, lastLore: turn.lore })
      if (!turn.withLore) enqueue.emit({ type: 'request.sent', id: head!.id, messages: turn.messages, lore: turn.lore })
      enqueue.sendTo('caller', { type: 'call', id: head!.id, turn, stream: head!.stream })
    }),
    acting: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'turn.acting') return
      for (const call of event.calls) enqueue.emit({ type: 'action.requested', id: event.id, call })
    }),
    applied: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'action.applied' || !context.current) return
      const effect = context.npc.actions.find((a) => a.name === event.action)?.effect
      if (effect?.set_flag) {
        const { data, unlocked } = setFlag(context.npc, context.data, effect.set_flag, true)
        enqueue.assign({ data })
        for (const secret of unlocked) enqueue.emit({ type: 'secret.unlocked', secret, by: 'flag' })
      }
      if (effect?.end_conversation) enqueue.assign({ current: { ...context.current, endAfter: true } })
    }),
    forwardDecision: sendTo('caller', ({ event }) => (event.type === 'action.resolve' ? { type: 'resolve' as const, callId: event.callId, outcome: event.outcome } : { type: 'cancel' as const, id: -1 })),
    prepared: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'turn.prepared' || !context.current) return
      enqueue.assign({ lastRequest: event.messages, lastLore: event.lore, current: { ...context.current, turn: { ...context.current.turn, messages: event.messages, lore: event.lore, loreFallback: event.loreFallback } } })
      enqueue.emit({ type: 'request.sent', id: event.id, messages: event.messages, lore: event.lore })
    }),
    emitDelta: emit(({ context, event }) => ({ type: 'turn.delta' as const, id: context.current!.id, text: event.type === 'turn.delta' ? event.text : '' })),
    emitRetry: emit(({ context, event }) => ({
      type: 'turn.retrying' as const,
      id: context.current!.id,
      attempt: event.type === 'turn.retry' ? event.info.attempt : 0,
      error: describeFailure(event.type === 'turn.retry' ? event.info.error : undefined),
    })),
    commit: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'turn.done' || !context.current) return
      const { data, unlocked } = commitTurn(context.npc, context.data, context.current.turn, event.reply.text, event.extra)
      const ended = context.ended || !!context.current.endAfter
      enqueue.assign({ data, current: undefined, ended })
      for (const secret of unlocked) enqueue.emit({ type: 'secret.unlocked', secret, by: 'turn' })
      enqueue.emit({
        type: 'turn.completed',
        id: context.current.id,
        result: {
          kind: 'reply',
          text: event.reply.text,
          state: ended ? 'ended' : idleState(context, context.queue.length),
          unlocked,
          ...(event.actions?.length && { actions: event.actions }),
          finishReason: event.reply.finishReason,
          usage: event.reply.usage,
          requestId: event.reply.requestId,
          ...(event.trimmed && { contextTrimmed: true }),
          ...(context.current.turn.loreFallback && { loreFallback: context.current.turn.loreFallback }),
        },
      })
    }),
    fail: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'turn.failed' || !context.current) return
      const data = failTurn(context.data)
      const ended = data.failures >= context.npc.max_failures
      enqueue.assign({ data, current: undefined, ended })
      enqueue.emit({
        type: 'turn.completed',
        id: context.current.id,
        result: {
          kind: 'fallback',
          text: context.npc.lines.fallback,
          state: ended ? 'ended' : idleState(context, context.queue.length),
          unlocked: [],
          error: describeFailure(event.error),
          ...(context.current.turn.loreFallback && { loreFallback: context.current.turn.loreFallback }),
        },
      })
    }),
    cancel: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'turn.cancel') return
      if (context.current?.id === event.id) {
        enqueue.sendTo('caller', { type: 'cancel', id: event.id })
        enqueue.assign({ current: undefined })
      } else {
        enqueue.assign({ queue: context.queue.filter((q) => q.id !== event.id) })
      }
      enqueue.emit({ type: 'turn.rejected', id: event.id, reason: 'aborted' })
    }),
    give: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'game.give') return
      const { data, unlocked } = giveItem(context.npc, context.data, event.item, event.count)
      enqueue.assign({ data })
      for (const secret of unlocked) enqueue.emit({ type: 'secret.unlocked', secret, by: 'give' })
    }),
    flag: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'game.flag') return
      const { data, unlocked } = setFlag(context.npc, context.data, event.name, event.on)
      enqueue.assign({ data })
      for (const secret of unlocked) enqueue.emit({ type: 'secret.unlocked', secret, by: 'flag' })
    }),
    end: enqueueActions(({ context, enqueue }) => {
      if (context.current) {
        enqueue.sendTo('caller', { type: 'cancel', id: context.current.id })
        enqueue.emit({ type: 'turn.rejected', id: context.current.id, reason: 'ended' })
      }
      enqueue.assign({ ended: true, current: undefined })
    }),
    rejectQueue: enqueueActions(({ context, enqueue }) => {
      for (const q of context.queue) enqueue.emit({ type: 'turn.rejected', id: q.id, reason: 'ended' })
      enqueue.assign({ queue: [] })
    }),
    rejectEvent: emit(({ event }) => ({ type: 'turn.rejected' as const, id: event.type === 'player.say' ? event.id : -1, reason: 'ended' as const })),
  },
}).createMachine({
  id: 'conversation',
  context: ({ input }) => ({ ...input, embeddings: input.embeddings, actions: input.actions ?? {}, queue: [], current: undefined, lastRequest: undefined, lastLore: [] }),
  invoke: { id: 'caller', src: 'caller', input: ({ context }) => ({ provider: context.provider, npc: context.npc, actions: context.actions }) },
  initial: 'dispatch',
  on: {
    'game.give': { actions: 'give' },
    'game.flag': { actions: 'flag' },
    'game.end': { actions: 'end', target: '.ended' },
  },
  states: {
    dispatch: {
      always: [
        { guard: 'isEnded', target: 'ended' },
        { guard: 'queueEmpty', target: 'awaiting' },
        { guard: 'headIsEmpty', actions: 'answerNudge', target: 'dispatch', reenter: true },
        { guard: 'headIsExit', actions: 'answerFarewell', target: 'ended' },
        { actions: 'prepareHead', target: 'busy' },
      ],
    },
    awaiting: {
      on: { 'player.say': { actions: 'enqueue', target: 'dispatch' } },
    },
    busy: {
      initial: 'thinking',
      on: {
        'player.say': { actions: 'enqueue' },
        'turn.prepared': { guard: 'isCurrent', actions: 'prepared' },
        'turn.acting': { guard: 'isCurrent', actions: 'acting', target: '.acting' },
        'action.applied': { guard: 'isCurrent', actions: 'applied' },
        'action.resolve': { actions: 'forwardDecision' },
        'turn.done': { guard: 'isCurrent', actions: 'commit', target: 'dispatch' },
        'turn.failed': { guard: 'isCurrent', actions: 'fail', target: 'dispatch' },
        'turn.cancel': [
          { guard: 'isCurrent', actions: 'cancel', target: 'dispatch' },
          { actions: 'cancel' },
        ],
      },
      states: {
        thinking: {
          on: {
            'turn.delta': { guard: 'isCurrent', actions: 'emitDelta', target: 'streaming' },
            'turn.retry': { guard: 'isCurrent', actions: 'emitRetry', target: 'retrying' },
          },
        },
        retrying: {
          on: {
            'turn.delta': { guard: 'isCurrent', actions: 'emitDelta', target: 'streaming' },
            'turn.retry': { guard: 'isCurrent', actions: 'emitRetry' },
          },
        },
        streaming: {
          on: { 'turn.delta': { guard: 'isCurrent', actions: 'emitDelta' } },
        },
        acting: {
          on: {
            'turn.delta': { guard: 'isCurrent', actions: 'emitDelta', target: 'streaming' },
            'turn.retry': { guard: 'isCurrent', actions: 'emitRetry', target: 'retrying' },
          },
        },
      },
    },
    ended: {
      entry: 'rejectQueue',
      on: { 'player.say': { actions: 'rejectEvent' } },
    },
  },
})
