/**
 * What the routes do, once a route has checked who is calling and validated the body: load a
 * conversation (live copy or store), run a turn or a gift under the conversation's lock, save it
 * with compare-and-set, and remember each answer under its idempotency key so a retry is never a
 * second turn. Creating and restoring are idempotent too: the id of a conversation created with a
 * key is derived from the caller and the key, so a retry on any server finds the first one.
 */
import type { z } from 'zod'
import type { Npc } from '../content/schema.ts'
import { Conversation, restoreConversation, type ConversationOptions } from '../conversation/conversation.ts'
import { finishedFrom, type MemoryKeeper } from '../memory/keeper.ts'
import type { Provider } from '../providers/types.ts'
import { storedAnswer, withAnswer, type ConversationStore } from '../store/types.ts'
import type { Caller } from './caller.ts'
import type { HandlerSettings } from './config.ts'
import type { LiveConversations, Live } from './live-cache.ts'
import { HttpProblem, json, problemBody, toProblem } from './problem.ts'
import { isParleyError } from '../errors.ts'
import { looksLikeSignedSave, openSave, sealSave } from './saves.ts'
import type { createBody, flagBody, itemBody, varBody } from './schemas.ts'
import { fromBase64url, toHex, type KeyRing } from './signing.ts'
import { replayAsSse, sseEvent, sseResponse } from './sse.ts'
import { inspectorStatus, inspectorView, playerStatus, playerView, publicResult, type ViewSource } from './views.ts'

const ID = /^[0-9a-f]{32}$/
const CREATED = 'created'

export interface ServiceDeps {
  npcs: ReadonlyMap<string, Npc>
  providerFor: (npc: Npc) => Provider
  lore: ConversationOptions['lore']
  actions: ConversationOptions['actions']
  store: ConversationStore
  live: LiveConversations
  ring: KeyRing
  config: HandlerSettings
  inspectorForPlayers: boolean
  bindSaves: boolean
  /** With memory on: conversations of a player start from the NPC's record of them, and are remembered when they end. */
  keeper?: MemoryKeeper | undefined
  now: () => number
}

export type Work =
  | { action: 'messages'; text: string }
  | ({ action: 'items' } & z.output<typeof itemBody>)
  | ({ action: 'flags' } & z.output<typeof flagBody>)
  | ({ action: 'vars' } & z.output<typeof varBody>)
  | { action: 'end' }

export class ConversationService {
  readonly #d: ServiceDeps
  constructor(deps: ServiceDeps) {
    this.#d = deps
  }

  /** The provider sees a pseudonym per player, stable under the signing key, never the account id. */
  async #options(npc: Npc, owner: string): Promise<ConversationOptions> {
    const userId = owner === 'game' ? undefined : `u-${(await this.#d.ring.sign('parley.user.v1', owner)).split('.')[1]!.slice(0, 32)}`
    return { provider: this.#d.providerFor(npc), lore: this.#d.lore, actions: this.#d.actions ?? { handler: () => ({ ok: true as const }) }, userId }
  }

  #mayUse(caller: Caller, owner: string): boolean {
    return caller.player === undefined ? caller.kind === 'game' : caller.player === owner
  }

  async load(id: string, caller: Caller): Promise<Live> {
    const { store, live, npcs } = this.#d
    const head = ID.test(id) ? await store.head(id) : undefined
    if (!head) live.forget(id)
    if (!head || !this.#mayUse(caller, head.owner)) throw notFound()
    const cached = live.get(id)
    if (cached && cached.record.version === head.version) {
      live.remember(cached)
      return cached
    }
    const record = await store.get(id)
    if (!record || !this.#mayUse(caller, record.owner)) throw notFound()
    const npc = npcs.get(record.snapshot.npc)
    if (!npc) throw new HttpProblem(404, 'unknown_npc', `this server has no NPC "${record.snapshot.npc}"`)
    const { snapshot, ...rest } = record
    const loaded: Live = { id, record: rest, convo: restoreConversation(npc, snapshot, await this.#options(npc, record.owner)) }
    if (cached) live.forget(id)
    live.remember(loaded)
    return loaded
  }

  async #save(l: Live, answer?: { key: string; value: unknown }): Promise<void> {
    const lastRequest = l.convo.lastRequest()
    const record = {
      owner: l.record.owner,
      answers: answer ? withAnswer(l.record.answers, answer.key, answer.value) : l.record.answers,
      view: lastRequest ? { lastRequest, lore: l.convo.lastLore() } : l.record.view,
      ...(l.record.startedAt !== undefined && { startedAt: l.record.startedAt }),
      ...(l.record.run !== undefined && { run: l.record.run }),
    }
    const ok = await this.#d.store.put(l.id, { ...record, snapshot: l.convo.snapshot() }, l.record.version)
    if (!ok) {
      // The live copy ran a turn the store refused: it no longer matches any stored version.
      this.#d.live.forget(l.id)
      throw new HttpProblem(409, 'conflict', 'this conversation changed on another server during this request; send it again')
    }
    l.record = { ...record, version: l.record.version + 1 }
  }

  #source(l: Live): ViewSource {
    return { id: l.id, convo: l.convo, provider: this.#d.providerFor(l.convo.npc).name, stored: l.record.view }
  }
  #inspects(caller: Caller): boolean {
    return caller.kind === 'game' || this.#d.inspectorForPlayers
  }
  /** What a caller sees after each turn or gift. */
  status(l: Live, caller: Caller) {
    return this.#inspects(caller) ? inspectorStatus(this.#source(l)) : playerStatus(this.#source(l))
  }
  view(l: Live, caller: Caller) {
    return this.#inspects(caller) ? inspectorView(this.#source(l)) : playerView(this.#source(l))
  }
  inspect(l: Live) {
    return inspectorView(this.#source(l))
  }

  /** Refuses with 503 and Retry-After when a store in this process's memory is at its cap. */
  checkRoom(): void {
    const { store, config } = this.#d
    if (store.size && store.size() >= config.maxLive) {
      const wait = Math.max(1, Math.ceil((store.nextExpiryMs?.() ?? 60_000) / 1000))
      throw new HttpProblem(503, 'server_full', 'this server holds as many conversations as it may; try again later', { 'retry-after': String(wait) })
    }
  }

  async create(body: z.output<typeof createBody>, caller: Caller, idempotencyKey: string | undefined): Promise<Response> {
    const { npcs, ring, bindSaves, store, live } = this.#d
    const npc = npcs.get(body.npc)
    if (!npc) throw new HttpProblem(404, 'unknown_npc', `no NPC "${body.npc}"`)
    const owner = caller.player ?? 'game'
    const key = idempotencyKey === undefined ? undefined : `${caller.kind}:${idempotencyKey}`
    const id = key === undefined ? randomId() : await this.#keyedId(owner, key)
    const release = key === undefined ? undefined : await live.acquire(id)
    try {
      if (key !== undefined) {
        const earlier = await this.#earlierCreate(id, key, body.npc)
        if (earlier) return earlier
      }
      let snapshot: unknown
      if (body.save !== undefined) {
        // A player's save must be one this server signed; the game may also restore its own bare snapshots.
        if (caller.kind === 'game' && !looksLikeSignedSave(body.save)) snapshot = body.save
        else snapshot = await openSave(ring, body.save, { npc, player: caller.kind === 'player' && bindSaves ? caller.player : undefined })
      }
      const convoOptions = await this.#options(npc, owner)
      // A restored save keeps the start of the conversation it was taken from, so a save from
      // before the player's "new game" cannot carry that game's unlocks back into the record.
      const startedAt = snapshot !== undefined ? savedStartedAt(snapshot) : this.#d.now()
      const run = randomId()
      const convo = snapshot !== undefined ? restoreConversation(npc, snapshot, convoOptions) : await this.#fresh(npc, owner, convoOptions)
      const loaded: Live = { id, record: { owner, answers: {}, version: 1, startedAt, run }, convo }
      const returning = (convo.snapshot().memories?.length ?? 0) > 0
      const answer = { ...this.view(loaded, caller), greeting: convo.greeting ?? null, returning }
      const answers = key === undefined ? {} : withAnswer({}, `${CREATED}:${key}`, answer)
      loaded.record.answers = answers
      if (!(await store.put(id, { snapshot: convo.snapshot(), owner, answers, startedAt, run }, 0))) {
        convo.stop()
        // Another server created it under the same key a moment ago: answer as it did.
        const earlier = key === undefined ? undefined : await this.#earlierCreate(id, key, body.npc)
        if (earlier) return earlier
        throw new HttpProblem(409, 'conflict', 'could not create the conversation; try again')
      }
      live.remember(loaded)
      return json(answer, 201)
    } finally {
      release?.()
    }
  }

  /** A new conversation: for a player, from the NPC's record of them when the server keeps memory. */
  async #fresh(npc: Npc, owner: string, options: ConversationOptions): Promise<Conversation> {
    const keeper = this.#d.keeper
    if (!keeper || owner === 'game') return new Conversation(npc, options)
    return new Conversation(npc, options, { data: await keeper.start(npc, owner, { provider: options.provider, userId: options.userId }), ended: false })
  }

  /**
   * Takes a conversation into the NPC's record of its player, in the background: when it ends, and
   * when this server lets an idle one go. The memory is written off the request that ended it.
   */
  async #remember(l: Live): Promise<void> {
    const keeper = this.#d.keeper
    if (!keeper || l.record.owner === 'game') return
    const npc = l.convo.npc
    const options = await this.#options(npc, l.record.owner)
    keeper.remember(npc, l.record.owner, finishedFrom(l.convo, runOf(l), l.record.startedAt ?? 0, l.record.version), { provider: options.provider, userId: options.userId })
  }

  /**
   * The live-conversation cache is letting an idle conversation go (or the server is closing):
   * unless another server has
   * moved it on (Redis expiry alone cannot trigger this), its memory is written now. The facts are
   * taken before the actor stops.
   */
  async letGo(l: Live): Promise<void> {
    if (!this.#d.keeper || l.record.owner === 'game' || l.convo.state === 'ended') return
    const version = l.record.version
    const facts = finishedFrom(l.convo, runOf(l), l.record.startedAt ?? 0, version)
    const npc = l.convo.npc
    // Gone from the store (expired with this very idleness) is fine: the record refuses a version older than one it took.
    const newest = async () => ((await this.#d.store.head(l.id))?.version ?? 0) <= version
    const options = await this.#options(npc, l.record.owner)
    this.#d.keeper.remember(npc, l.record.owner, facts, { provider: options.provider, userId: options.userId }, newest)
  }

  async #keyedId(owner: string, key: string): Promise<string> {
    const mac = (await this.#d.ring.sign('parley.create.v1', `${owner}\n${key}`)).split('.')[1]!
    return toHex(fromBase64url(mac)!).slice(0, 32)
  }

  async #earlierCreate(id: string, key: string, npc: string): Promise<Response | undefined> {
    if (!(await this.#d.store.head(id))) return undefined
    const record = await this.#d.store.get(id)
    const earlier = record && storedAnswer(record.answers, `${CREATED}:${key}`)
    if (!record || !earlier) return undefined
    if (record.snapshot.npc !== npc) throw new HttpProblem(409, 'idempotency_key_reused', `this Idempotency-Key already started a conversation with ${record.snapshot.npc}; use a new key for a new conversation`)
    return json(earlier.value, 201)
  }

  /** Gifts, flags, lines and endings: one at a time per conversation, each saved with compare-and-set. */
  async act(id: string, caller: Caller, work: Work, idempotencyKey: string | undefined, wantsStream: boolean): Promise<Response> {
    // The game's answers and the player's are kept apart: each gets back only what it was given.
    const key = idempotencyKey === undefined ? undefined : `${caller.kind}:${idempotencyKey}`
    const sse = work.action === 'messages' && wantsStream
    const release = await this.#d.live.acquire(id)
    let streaming = false
    try {
      const l = await this.load(id, caller)
      // A retried request gets the answer it would have had, not a second turn.
      const earlier = key === undefined ? undefined : storedAnswer(l.record.answers, key)
      if (earlier) return sse ? replayAsSse(earlier.value) : json(earlier.value)
      if (sse) {
        streaming = true
        return this.#streamTurn(l, caller, (work as { text: string }).text, key, release)
      }
      const wasEnded = l.convo.state === 'ended'
      try {
        let outcome: object
        if (work.action === 'items') outcome = this.#give(l, work)
        else if (work.action === 'flags') outcome = this.#flag(l, work)
        else if (work.action === 'vars') outcome = this.#setVar(l, work)
        else if (work.action === 'end') outcome = publicResult(l.convo.end())
        else outcome = publicResult(await l.convo.say(work.text))
        const answer = { ...outcome, conversation: this.status(l, caller) }
        await this.#save(l, key === undefined ? undefined : { key, value: answer })
        if (!wasEnded && l.convo.state === 'ended') await this.#remember(l)
        return json(answer)
      } catch (error) {
        // A turn that failed part-way leaves the live copy unlike the stored one.
        if (!(error instanceof HttpProblem)) this.#d.live.forget(l.id)
        throw error
      }
    } finally {
      if (!streaming) release()
    }
  }

  #give(l: Live, b: { item: string; count?: number | undefined; max?: number | undefined }) {
    const npc = l.convo.npc
    // Own properties only: "constructor" or "__proto__" is an unknown item, never Object.prototype's.
    if (!Object.hasOwn(npc.items, b.item)) throw new HttpProblem(400, 'unknown_item', `${npc.id} has no item "${b.item}"; known items: ${Object.keys(npc.items).join(', ') || 'none'}`)
    const count = b.count ?? 1
    if (b.max !== undefined) {
      const held = l.convo.items()
      const has = Object.hasOwn(held, b.item) ? held[b.item]! : 0
      if (has + count > b.max) throw new HttpProblem(409, 'not_enough_items', `the player has ${Math.max(0, b.max - has)} ${b.item} left to give, not ${count}`)
    }
    return { unlocked: l.convo.give(b.item, count).unlocked }
  }

  #flag(l: Live, b: { flag: string; on?: boolean | undefined }) {
    const declared = l.convo.npc.flags
    if (declared && !Object.hasOwn(declared, b.flag)) throw new HttpProblem(400, 'unknown_flag', `${l.convo.npc.id} declares no flag "${b.flag}"; declared: ${Object.keys(declared).join(', ') || 'none'}`)
    return { unlocked: l.convo.setFlag(b.flag, b.on ?? true).unlocked }
  }

  #setVar(l: Live, b: { name: string; value: number | string }) {
    try {
      return { unlocked: l.convo.setVar(b.name, b.value).unlocked }
    } catch (error) {
      // Refused before anything changed: an unknown name, the wrong kind, out of bounds.
      if (isParleyError(error) && (error.code === 'unknown_var' || error.code === 'invalid_var')) throw new HttpProblem(400, error.code, error.message)
      throw error
    }
  }

  #streamTurn(l: Live, caller: Caller, text: string, key: string | undefined, release: () => void): Response {
    const controller = new AbortController()
    return sseResponse(new ReadableStream<Uint8Array>({
      start: async (out) => {
        const send = (name: string, data: unknown) => out.enqueue(sseEvent(name, data))
        try {
          const wasEnded = l.convo.state === 'ended'
          const turn = l.convo.stream(text, { signal: controller.signal })
          for await (const delta of turn) send('delta', { text: delta })
          const answer = { ...publicResult(await turn.result), conversation: this.status(l, caller) }
          await this.#save(l, key === undefined ? undefined : { key, value: answer })
          send('done', answer)
          if (!wasEnded && l.convo.state === 'ended') await this.#remember(l)
        } catch (error) {
          if (!(error instanceof HttpProblem)) this.#d.live.forget(l.id)
          if (!controller.signal.aborted) send('error', problemBody(toProblem(error)))
        } finally {
          release()
          try {
            out.close()
          } catch {
            // the client went away
          }
        }
      },
      cancel() {
        controller.abort()
      },
    }))
  }

  async read(id: string, caller: Caller) {
    const l = await this.load(id, caller)
    await this.#d.store.touch(id)
    return this.view(l, caller)
  }

  /**
   * A player's delete takes the conversation into the record as its end would (unlocks, variables,
   * what was said): deleting is no way around a penalty the game set in it. The game's delete
   * discards it unremembered (the game may edit the record in any case).
   */
  async remove(id: string, caller: Caller): Promise<void> {
    const release = await this.#d.live.acquire(id)
    try {
      const l = await this.load(id, caller)
      if (caller.kind === 'player' && l.convo.state !== 'ended') await this.#remember(l)
      await this.#d.store.delete(id)
      this.#d.live.forget(id)
    } finally {
      release()
    }
  }

  async signedSave(id: string, caller: Caller) {
    const l = await this.load(id, caller)
    return sealSave(this.#d.ring, l.convo.snapshot(), l.record.owner)
  }
}

export const notFound = () => new HttpProblem(404, 'not_found', 'no such conversation (it may have expired; start a new one)')

/**
 * Which run the memory record takes this conversation as: the id alone named it before runs were
 * stored (conversations saved by an older server).
 */
function runOf(l: Live): string {
  return l.record.run === undefined ? l.id : `${l.id}:${l.record.run}`
}

/**
 * When a restored snapshot's conversation started. A snapshot that does not say counts as older
 * than any "new game" (0): it is remembered only by a record never cleared.
 */
export function savedStartedAt(snapshot: unknown): number {
  // The snapshot's own start time (`started_at`, which snapshots of conversations the memory keeper opened carry).
  const at = snapshot !== null && typeof snapshot === 'object' ? (snapshot as { started_at?: unknown }).started_at : undefined
  return typeof at === 'number' && Number.isFinite(at) && at >= 0 ? at : 0
}

/** Unguessable: 128 random bits, hex. */
function randomId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)))
}
