import { createActor, type Actor } from 'xstate'
import type { Npc } from '../content/schema.ts'
import { describeCondition } from '../conditions/evaluate.ts'
import { ParleyError } from '../errors.ts'
import type { GlmMessage } from '../glm/types.ts'
import { buildMessages } from '../prompt/build.ts'
import type { Provider } from '../providers/types.ts'
import { conversationMachine, type ConversationEmitted } from './machine.ts'
import { emptyData, prepareTurn, type ConversationData } from './state.ts'
import type { EmbeddingOptions } from '../lore/embeddings.ts'
import type { HistoryEntry } from '../prompt/history.ts'
import type { ActionSettings } from './machine.ts'
import type { ActionOutcome } from './turn-runner.ts'
import { fromSnapshot, toSnapshot, type ConversationSnapshot } from './snapshot.ts'
import type { ConversationStateName, TurnResult } from './results.ts'
import { explainConversation, type Explanation } from '../inspect/explain.ts'
import type { ExplainOptions } from '../conditions/explain.ts'

export interface ConversationOptions {
  provider: Provider
  /** For NPCs whose lore uses `embeddings` or `hybrid` retrieval; without it they use BM25. */
  lore?: { embeddings?: EmbeddingOptions | undefined } | undefined
  /** How the game decides the actions the model asks for (see `resolveAction`). */
  actions?: ActionSettings | undefined
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

/**
 * A conversation between the player and one NPC, backed by an xstate actor.
 * @example
 * const convo = createConversation(npc, { provider: scriptedProvider() })
 * const { text } = await convo.say('你好')
 * convo.give('red_gem')
 */
export class Conversation {
  readonly npc: Npc
  readonly actor: Actor<typeof conversationMachine>
  readonly #pending = new Map<number, Pending>()
  #nextId = 1

  constructor(npc: Npc, options: ConversationOptions, restored?: { data: ConversationData; ended: boolean }) {
    this.npc = npc
    this.actor = createActor(conversationMachine, {
      input: { npc, provider: options.provider, embeddings: options.lore?.embeddings, actions: options.actions, data: restored?.data ?? emptyData, ended: restored?.ended ?? false },
    })
    this.actor.on('turn.delta', (e) => this.#pending.get(e.id)?.onDelta?.(e.text))
    this.actor.on('turn.completed', (e) => {
      const p = this.#pending.get(e.id)
      this.#pending.delete(e.id)
      p?.resolve(e.result)
    })
    this.actor.on('turn.rejected', (e) => {
      const p = this.#pending.get(e.id)
      this.#pending.delete(e.id)
      p?.reject(e.reason === 'ended' ? new ParleyError('conversation_ended', 'the conversation has ended') : new ParleyError('aborted', 'the turn was cancelled; history is as it was before it'))
    })
    this.actor.start()
  }

  /** The NPC's opening line, to show before the player speaks. */
  get greeting(): string | undefined {
    return this.npc.greeting
  }

  get state(): ConversationStateName {
    const value = this.actor.getSnapshot().value
    if (typeof value === 'string') return value === 'dispatch' ? 'awaiting' : (value as ConversationStateName)
    return (value as { busy: ConversationStateName }).busy
  }

  get turns(): number {
    return this.actor.getSnapshot().context.data.turns
  }

  /** The player says a line; resolves with the NPC's answer once the turn is done. */
  say(text: string, options: TurnOptions = {}): Promise<TurnResult> {
    return this.#send(text, false, options)
  }

  /** Like `say`, yielding the reply's text as it streams. */
  stream(text: string, options: TurnOptions = {}): TurnStream {
    const deltas: string[] = []
    let wake: (() => void) | undefined
    let finished = false
    const result = this.#send(text, true, options, (delta) => {
      deltas.push(delta)
      wake?.()
    })
    result.then(
      () => ((finished = true), wake?.()),
      () => ((finished = true), wake?.()),
    )
    return {
      result,
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (deltas.length > 0) yield deltas.shift()!
          if (finished) break
          await new Promise<void>((r) => (wake = r))
          wake = undefined
        }
        await result
      },
    }
  }

  #send(text: string, stream: boolean, options: TurnOptions, onDelta?: (text: string) => void): Promise<TurnResult> {
    if (typeof text !== 'string') return Promise.reject(new ParleyError('invalid_argument', 'a player line must be text'))
    if (text.length > this.npc.max_line_chars) {
      return Promise.reject(new ParleyError('line_too_long', `the line is ${text.length} characters; ${this.npc.name} listens to at most ${this.npc.max_line_chars}`))
    }
    if (options.signal?.aborted) return Promise.reject(new ParleyError('aborted', 'the turn was cancelled before it started'))
    const id = this.#nextId++
    const promise = new Promise<TurnResult>((resolve, reject) => this.#pending.set(id, { resolve, reject, ...(onDelta && { onDelta }) }))
    const signal = options.signal
    if (signal) {
      const onAbort = () => this.actor.send({ type: 'turn.cancel', id })
      signal.addEventListener('abort', onAbort, { once: true })
      promise.then(() => signal.removeEventListener('abort', onAbort), () => signal.removeEventListener('abort', onAbort))
    }
    this.actor.send({ type: 'player.say', id, text, stream })
    return promise
  }

  /** The game reports that the player gave this NPC an item. Returns the secrets it unlocked. */
  give(item: string, count = 1): { unlocked: string[] } {
    if (!this.npc.items[item]) throw new ParleyError('unknown_item', `${this.npc.id} has no item "${item}"; known items: ${Object.keys(this.npc.items).join(', ') || 'none'}`)
    if (!Number.isInteger(count) || count < 1) throw new ParleyError('invalid_argument', `count must be a positive whole number, got ${count}`)
    return this.#unlocksFrom(() => this.actor.send({ type: 'game.give', item, count }))
  }

  /** The game sets (or clears) a flag the NPC's conditions may test. */
  setFlag(name: string, on = true): { unlocked: string[] } {
    if (typeof name !== 'string' || name === '') throw new ParleyError('invalid_argument', 'a flag name must be non-empty text')
    return this.#unlocksFrom(() => this.actor.send({ type: 'game.flag', name, on }))
  }

  #unlocksFrom(send: () => void): { unlocked: string[] } {
    const unlocked: string[] = []
    const sub = this.actor.on('secret.unlocked', (e) => unlocked.push(e.secret))
    send()
    sub.unsubscribe()
    return { unlocked }
  }

  /**
   * The game's answer to an action the model asked for (`action.requested`), when no handler was
   * given: `{ ok: true, result }` if it happened, `{ ok: false, reason }` if not.
   */
  resolveAction(callId: string, outcome: ActionOutcome): void {
    this.actor.send({ type: 'action.resolve', callId, outcome })
  }

  /** Ends the conversation; an in-flight turn is cancelled and history is left as it was. */
  end(): TurnResult {
    this.actor.send({ type: 'game.end' })
    return { kind: 'farewell', text: this.npc.lines.farewell, state: 'ended', unlocked: [] }
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

  items(): Record<string, number> {
    return { ...this.actor.getSnapshot().context.data.items }
  }

  flags(): string[] {
    return [...this.actor.getSnapshot().context.data.flags]
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

  /** Subscribe to machine events: `secret.unlocked`, `turn.delta`, `turn.completed`, `turn.retrying`, `request.sent`, `action.requested`. */
  on<T extends ConversationEmitted['type']>(type: T, handler: (event: Extract<ConversationEmitted, { type: T }>) => void): () => void {
    const sub = this.actor.on(type, handler as never)
    return () => sub.unsubscribe()
  }

  /** A save game of everything committed; a turn still in flight is not part of it. */
  snapshot(): ConversationSnapshot {
    const { data, ended } = this.actor.getSnapshot().context
    return toSnapshot(this.npc, data, ended)
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
