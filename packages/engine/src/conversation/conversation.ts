/**
 * The public `Conversation`: the facade a game holds. It checks the game's and the player's input,
 * sends it to the machine as events, and delivers what the machine emits (turn results, deltas,
 * unlocks, action requests) once the machine is idle.
 */
import { createActor, type Actor } from 'xstate'
import type { Npc } from '../content/schema.ts'
import { describeCondition } from '../conditions/evaluate.ts'
import { ParleyError } from '../errors.ts'
import type { GlmMessage } from '../glm/types.ts'
import { buildMessages } from '../prompt/build.ts'
import { openingLine } from '../prompt/system.ts'
import type { Provider } from '../providers/types.ts'
import { checkUserId } from '../providers/end-user.ts'
import { conversationMachine, type ConversationEmitted, type ConversationEvent } from './machine.ts'
import { initialData, type ConversationData } from './state.ts'
import { valueProblem } from '../vars/values.ts'
import type { VarValue } from '../content/schema.ts'
import { prepareTurn } from './prepare.ts'
import type { EmbeddingOptions } from '../lore/embeddings.ts'
import type { HistoryEntry } from '../prompt/history.ts'
import type { ActionOutcome, ActionSettings } from '../actions/types.ts'
import { fromSnapshot, toSnapshot, type ConversationSnapshot } from './snapshot.ts'
import type { ConversationStateName, TurnResult } from './results.ts'
import { explainConversation, type Explanation } from '../inspect/explain.ts'
import type { ExplainOptions } from '../conditions/explain.ts'

/** What each `convo.on(type, …)` listener receives; a completed turn's result carries its state. */
export type ConversationEvents = {
  [T in ConversationEmitted['type']]: T extends 'turn.completed' ? { type: T; id: number; result: TurnResult } : Extract<ConversationEmitted, { type: T }>
}

export interface ConversationOptions {
  provider: Provider
  /** For NPCs whose lore uses `embeddings` or `hybrid` retrieval; without it they use BM25. */
  lore?: { embeddings?: EmbeddingOptions | undefined } | undefined
  /** How the game decides the actions the model asks for (see `resolveAction`). */
  actions?: ActionSettings | undefined
  /** The player this conversation is with, for providers that pass it on (GLM's `user_id`). */
  userId?: string | undefined
  /**
   * How long a background summary call may take before it is given up and tried again a few turns
   * later (default 60 000 ms). Turns never wait for it either way.
   */
  summaryTimeoutMs?: number | undefined
}

export interface TurnOptions {
  signal?: AbortSignal | undefined
}

/** `for await (const delta of convo.stream(line))`, then `await stream.result` for the turn. */
export interface TurnStream extends AsyncIterable<string> {
  readonly result: Promise<TurnResult>
}

export interface SecretStatus {
  id: string
  unlocked: boolean
  /** The unlock condition in words, e.g. "given red_gem". Never the fact. */
  condition: string
}

type Pending = { resolve: (r: TurnResult) => void; reject: (e: unknown) => void; onDelta?: (text: string) => void }

/** An event the machine emitted, held until the machine is idle; a completed turn carries the state it left. */
type Outgoing = { event: ConversationEmitted; state: ConversationStateName | undefined }

/**
 * A conversation between the player and one NPC, backed by an xstate actor.
 *
 * Listeners run when the machine is idle, never in the middle of its step: the machine's events
 * are held in an outbox and delivered once it settles, so `give`, `setFlag`, `end` and
 * `resolveAction` called from a listener are processed at once and report what they really did.
 * @example
 * const convo = createConversation(npc, { provider: scriptedProvider() })
 * const { text } = await convo.say('你好')
 * convo.give('red_gem')
 */
export class Conversation {
  readonly npc: Npc
  readonly actor: Actor<typeof conversationMachine>
  readonly #pending = new Map<number, Pending>()
  readonly #listeners = new Map<string, Set<(event: never) => void>>()
  readonly #outbox: Outgoing[] = []
  #depth = 0
  #flushing = false
  #scheduled = false
  #nextId = 1

  constructor(npc: Npc, options: ConversationOptions, restored?: { data: ConversationData; ended: boolean }) {
    this.npc = npc
    this.actor = createActor(conversationMachine, {
      input: {
        npc,
        provider: options.provider,
        embeddings: options.lore?.embeddings,
        actions: options.actions,
        userId: options.userId === undefined ? undefined : checkUserId(options.userId),
        data: restored?.data ?? initialData(npc),
        summaryTimeoutMs: options.summaryTimeoutMs,
      },
    })
    this.actor.on('*', (event) => {
      // The snapshot is already the one this step ends in, so a result reports where the machine really is.
      // Only a completed turn reports it (the other events are most of a turn's).
      this.#outbox.push({ event, state: event.type === 'turn.completed' ? stateName(this.actor.getSnapshot().value) : undefined })
      if (this.#depth === 0 && !this.#flushing && !this.#scheduled) {
        this.#scheduled = true
        queueMicrotask(() => {
          this.#scheduled = false
          this.#flush()
        })
      }
    })
    this.actor.start()
    if (restored?.ended) this.actor.send({ type: 'game.end' })
  }

  /** Sends an event and, once the machine has settled, delivers what it emitted. */
  #dispatch(event: ConversationEvent): void {
    this.#depth++
    try {
      this.actor.send(event)
    } finally {
      this.#depth--
    }
    if (this.#depth === 0) this.#flush()
  }

  #flush(): void {
    if (this.#flushing) return
    this.#flushing = true
    try {
      for (let next = this.#outbox.shift(); next; next = this.#outbox.shift()) this.#deliver(next)
    } finally {
      this.#flushing = false
    }
  }

  #deliver({ event, state }: Outgoing): void {
    if (event.type === 'turn.delta') this.#pending.get(event.id)?.onDelta?.(event.text)
    const listeners = this.#listeners.get(event.type)
    const result = event.type === 'turn.completed' ? { ...event.result, state: state! } : undefined
    if (listeners) {
      const delivered = result ? { ...event, result } : event
      for (const listener of [...listeners]) {
        try {
          ;(listener as (e: unknown) => void)(delivered)
        } catch (error) {
          // A listener's bug must not stop the turn's own bookkeeping or the other listeners; it
          // surfaces as an uncaught error, as an EventTarget listener's would.
          queueMicrotask(() => {
            throw error
          })
        }
      }
    }
    if (event.type === 'turn.completed' || event.type === 'turn.rejected') {
      const p = this.#pending.get(event.id)
      this.#pending.delete(event.id)
      if (!p) return
      if (event.type === 'turn.completed') p.resolve(listeners ? { ...result! } : result!)
      else p.reject(event.reason === 'ended' ? new ParleyError('conversation_ended', 'the conversation has ended') : new ParleyError('aborted', 'the turn was cancelled; history is as it was before it, except for actions the game carried out'))
    }
  }

  /** The NPC's opening line, to show before the player speaks: its `welcome_back` line if it carries memories of the player. */
  get greeting(): string | undefined {
    return openingLine(this.npc, (this.actor.getSnapshot().context.data.memories?.length ?? 0) > 0)
  }

  get state(): ConversationStateName {
    return stateName(this.actor.getSnapshot().value)
  }

  get turns(): number {
    return this.actor.getSnapshot().context.data.turns
  }

  /** The player says a line; resolves with the NPC's answer once the turn is done. */
  say(text: string, options: TurnOptions = {}): Promise<TurnResult> {
    return this.#send(text, false, options).promise
  }

  /**
   * Like `say`, yielding the reply's text as it streams. Leaving the loop early (`break`, a
   * `throw`) cancels the turn, as an aborted signal would.
   */
  stream(text: string, options: TurnOptions = {}): TurnStream {
    const deltas: string[] = []
    let wake: (() => void) | undefined
    let finished = false
    const turn = this.#send(text, true, options, (delta) => {
      deltas.push(delta)
      wake?.()
    })
    const result = turn.promise
    const done = () => {
      finished = true
      wake?.()
    }
    // Marked handled: a loop left early rejects the result with `aborted`, which a caller that
    // never reads `.result` must not see as an unhandled rejection.
    result.then(done, done)
    const cancel = (id: number | undefined) => {
      if (!finished && id !== undefined) this.#dispatch({ type: 'turn.cancel', id })
    }
    return {
      result,
      async *[Symbol.asyncIterator]() {
        let complete = false
        try {
          for (;;) {
            while (deltas.length > 0) yield deltas.shift()!
            if (finished) break
            await new Promise<void>((r) => (wake = r))
            wake = undefined
          }
          complete = true
          await result
        } finally {
          if (!complete) cancel(turn.id)
        }
      },
    }
  }

  /** The player says a line (id, and the promise of its result). */
  #send(text: string, stream: boolean, options: TurnOptions, onDelta?: (text: string) => void): { id: number | undefined; promise: Promise<TurnResult> } {
    if (typeof text !== 'string') return { id: undefined, promise: Promise.reject(new ParleyError('invalid_argument', 'a player line must be text')) }
    if (text.length > this.npc.max_line_chars) {
      return { id: undefined, promise: Promise.reject(new ParleyError('line_too_long', `the line is ${text.length} characters; ${this.npc.name} listens to at most ${this.npc.max_line_chars}`)) }
    }
    if (options.signal?.aborted) return { id: undefined, promise: Promise.reject(new ParleyError('aborted', 'the turn was cancelled before it started')) }
    const id = this.#nextId++
    const promise = new Promise<TurnResult>((resolve, reject) => this.#pending.set(id, { resolve, reject, ...(onDelta && { onDelta }) }))
    const signal = options.signal
    if (signal) {
      const onAbort = () => this.#dispatch({ type: 'turn.cancel', id })
      signal.addEventListener('abort', onAbort, { once: true })
      const off = () => signal.removeEventListener('abort', onAbort)
      promise.then(off, off)
    }
    this.#dispatch({ type: 'player.say', id, text, stream })
    return { id, promise }
  }

  /** The game reports that the player gave this NPC an item. Returns the secrets it unlocked. */
  give(item: string, count = 1): { unlocked: string[] } {
    // Own properties only: "constructor" or "__proto__" is an unknown id like any other.
    if (typeof item !== 'string' || !Object.hasOwn(this.npc.items, item)) {
      throw new ParleyError('unknown_item', `${this.npc.id} has no item "${String(item)}"; known items: ${Object.keys(this.npc.items).join(', ') || 'none'}`)
    }
    if (!Number.isInteger(count) || count < 1) throw new ParleyError('invalid_argument', `count must be a positive whole number, got ${count}`)
    return this.#unlocksFrom({ type: 'game.give', item, count })
  }

  /** The game sets (or clears) a flag the NPC's conditions may test. An NPC that declares `flags:` takes only those. */
  setFlag(name: string, on = true): { unlocked: string[] } {
    if (typeof name !== 'string' || name === '') throw new ParleyError('invalid_argument', 'a flag name must be non-empty text')
    const declared = this.npc.flags
    if (declared && !Object.hasOwn(declared, name)) {
      throw new ParleyError('unknown_flag', `${this.npc.id} declares no flag "${name}"; declared flags: ${Object.keys(declared).join(', ') || 'none'}`)
    }
    return this.#unlocksFrom({ type: 'game.flag', name, on })
  }

  /**
   * The game sets a variable the NPC declares under `vars:` (either owner: the game may change
   * any). Refuses unknown names (`unknown_var`), a value of the wrong kind or out of bounds
   * (`invalid_var`). Returns the secrets it unlocked.
   */
  setVar(name: string, value: VarValue): { unlocked: string[] } {
    if (typeof name !== 'string' || !Object.hasOwn(this.npc.vars, name)) {
      throw new ParleyError('unknown_var', `${this.npc.id} declares no variable "${String(name)}"; declared: ${Object.keys(this.npc.vars).join(', ') || 'none'}`)
    }
    const problem = valueProblem(this.npc.vars[name]!, value)
    if (problem) throw new ParleyError('invalid_var', `${name} ${problem}`)
    return this.#unlocksFrom({ type: 'game.var', name, value })
  }

  /** What one game event unlocked: the machine is idle here, so the event is processed before `send` returns. */
  #unlocksFrom(event: ConversationEvent): { unlocked: string[] } {
    const before = this.actor.getSnapshot().context.data.unlocked
    this.#dispatch(event)
    const after = this.actor.getSnapshot().context.data.unlocked
    return { unlocked: after.slice(before.length) }
  }

  /**
   * The game's answer to an action the model asked for (`action.requested`), when no handler was
   * given: `{ ok: true, result }` if it happened, `{ ok: false, reason }` if not.
   */
  resolveAction(callId: string, outcome: ActionOutcome): void {
    this.#dispatch({ type: 'action.resolve', callId, outcome })
  }

  /**
   * Ends the conversation with the NPC's farewell; an in-flight turn is cancelled and history is
   * left as it was (actions the game already carried out stay). Throws `conversation_ended` if
   * the conversation had already ended.
   */
  end(): TurnResult {
    if (this.state === 'ended') throw new ParleyError('conversation_ended', 'the conversation has already ended')
    this.#dispatch({ type: 'game.end' })
    return { kind: 'farewell', text: this.npc.lines.farewell, state: this.state, unlocked: [] }
  }

  /**
   * The messages the next call would send for `nextLine`. Without a line: the system message and
   * kept history that will precede the player's next line.
   */
  messages(nextLine?: string): GlmMessage[] {
    const { data } = this.actor.getSnapshot().context
    if (nextLine === undefined) return buildMessages(this.npc, data, data.history, '').slice(0, -1)
    // With lore, this shows BM25's choice; embedding retrieval's choice is in lastRequest().
    return prepareTurn(this.npc, data, nextLine).messages
  }

  /** The exact messages of the last call sent to the provider. */
  lastRequest(): GlmMessage[] | undefined {
    return this.actor.getSnapshot().context.lastRequest
  }

  /** Ids of the lore chunks retrieved for the last call (`source#n`). */
  lastLore(): string[] {
    return [...this.actor.getSnapshot().context.lastLore]
  }

  history(): HistoryEntry[] {
    return this.actor.getSnapshot().context.data.history.toArray().map((h) => ({ ...h }))
  }

  /**
   * The running summary of the older exchanges (what was said, condensed by the provider), and how
   * many exchanges it covers; undefined until the history first outgrew its window.
   */
  summary(): { text: string; coversTurns: number } | undefined {
    const s = this.actor.getSnapshot().context.data.summary
    return s && { text: s.text, coversTurns: s.turns }
  }

  items(): Record<string, number> {
    return { ...this.actor.getSnapshot().context.data.items }
  }

  flags(): string[] {
    return [...this.actor.getSnapshot().context.data.flags]
  }

  /** Every declared variable's value now. */
  vars(): Record<string, VarValue> {
    return { ...this.actor.getSnapshot().context.data.vars }
  }

  unlocked(): string[] {
    return [...this.actor.getSnapshot().context.data.unlocked]
  }

  /** For designers' panels: which secrets are locked and what would unlock them. */
  secrets(): SecretStatus[] {
    const unlocked = this.actor.getSnapshot().context.data.unlocked
    return this.npc.secrets.map((s) => ({ id: s.id, unlocked: unlocked.includes(s.id), condition: describeCondition(s.unlock) }))
  }

  /**
   * Why the NPC knows what it knows: each secret, lore entry and action with its condition tree and
   * every leaf's progress, what the next request would carry and what the last one carried.
   */
  explain(options: ExplainOptions = {}): Explanation {
    const { data, lastRequest, lastLore } = this.actor.getSnapshot().context
    return explainConversation(this.npc, data, lastRequest && { messages: lastRequest, lore: lastLore }, options)
  }

  /** Subscribe to machine events: `secret.unlocked`, `turn.delta`, `turn.completed`, `turn.retrying`, `request.sent`, `action.requested`, `summary.updated`, `summary.error`. */
  on<T extends ConversationEmitted['type']>(type: T, handler: (event: ConversationEvents[T]) => void): () => void {
    let set = this.#listeners.get(type)
    if (!set) this.#listeners.set(type, (set = new Set()))
    set.add(handler as (event: never) => void)
    return () => void set.delete(handler as (event: never) => void)
  }

  /** A save game of everything committed; a turn still in flight is not part of it. */
  snapshot(): ConversationSnapshot {
    return toSnapshot(this.npc, this.actor.getSnapshot().context.data, this.state === 'ended')
  }

  /** Stops the actor. Turns still pending are rejected (`aborted`), never left hanging. */
  stop(): void {
    this.actor.stop()
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) p.reject(new ParleyError('aborted', 'the conversation was stopped before this turn finished'))
  }
}

export function createConversation(npc: Npc, options: ConversationOptions): Conversation {
  return new Conversation(npc, options)
}

/** Continues a saved conversation. Throws ParleyError `snapshot_invalid` or `snapshot_wrong_npc`. */
export function restoreConversation(npc: Npc, snapshot: unknown, options: ConversationOptions): Conversation {
  return new Conversation(npc, options, fromSnapshot(npc, snapshot))
}

/** The public name of a machine state: the innermost of `busy`'s states, else the top one. */
function stateName(value: unknown): ConversationStateName {
  if (typeof value === 'string') return value === 'dispatch' ? 'awaiting' : (value as ConversationStateName)
  const busy = (value as { busy: string | Record<string, unknown> }).busy
  if (typeof busy === 'string') return busy as ConversationStateName
  if ('calling' in busy) return busy.calling as ConversationStateName
  return 'acting'
}
