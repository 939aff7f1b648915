/**
 * `@parley/client`: Parley's HTTP API from a browser, a game client or a game server, typed from
 * the schemas the server validates with. One client speaks as one caller: a player (a browser's
 * cookie, or a player token the game minted) or the game (its game key, optionally acting for a
 * named player). Every call takes an AbortSignal; every state-changing call carries one
 * Idempotency-Key across its retries, so a retry never runs a turn twice.
 */
import type { Changed, CreatedConversation, ConversationView, Forgotten, InspectorView, MemoryView, NewGameDone, NpcList, PlayerToken, SignedSaveBody, Turn } from '@parley/engine/http'
import { errorFrom, ParleyError } from './error.ts'
import { aborted, delayBefore, sleep, type RetryOptions } from './retry.ts'
import { readEvents } from './stream.ts'

export interface ParleyClientOptions {
  /** Where the API is mounted: `https://game.example/api`, or `/api` on the page's own origin. */
  baseUrl: string
  /** The game's key: makes this client the game (never put it in a game client or a page). */
  gameKey?: string | undefined
  /** The game acting for one of its players, by the game's own account id. */
  player?: string | undefined
  /** A player token the game minted (`POST /player-tokens`), for a game client outside a browser. */
  playerToken?: string | undefined
  /** Each attempt's deadline. Default 30 s; a stream's deadline is for its first byte. */
  timeoutMs?: number | undefined
  retry?: RetryOptions | undefined
  fetch?: typeof fetch | undefined
}

export interface CallOptions {
  signal?: AbortSignal | undefined
  /** Reuse a key to make this call the same intended change as an earlier one. Default: a new key per call. */
  idempotencyKey?: string | undefined
}

export type StreamEvent =
  | { type: 'delta'; text: string }
  /** The connection was cut and the turn is being fetched again: text shown so far is replaced by what follows. */
  | { type: 'restart' }
  | { type: 'done'; turn: Turn }

interface Send {
  method: 'GET' | 'POST' | 'DELETE'
  path: string
  body?: unknown
  stream?: boolean
  /** A retried DELETE that finds nothing: the first attempt did it. */
  goneIsDone?: boolean
}

export class ParleyClient {
  readonly #o: ParleyClientOptions
  readonly #retry: Required<RetryOptions>
  /** A player outside a browser keeps the id the server's cookie carries, as a header. */
  #token: string | undefined

  constructor(options: ParleyClientOptions) {
    this.#o = { ...options, baseUrl: options.baseUrl.replace(/\/$/, '') }
    this.#retry = { attempts: 4, baseDelayMs: 200, maxDelayMs: 10_000, ...options.retry }
    this.#token = options.playerToken
  }

  /**
   * The player token this client presents: the one it was given, or (outside a browser) the id the
   * server issued on the first answer. Hand it to another client to act as the same player.
   */
  identity(): string | undefined {
    return this.#token
  }

  /** The same server as the game acting for `player` (its account id). */
  forPlayer(player: string): ParleyClient {
    return new ParleyClient({ ...this.#o, player })
  }

  // ---- anyone ----
  npcs(o?: CallOptions): Promise<NpcList> {
    return this.#json({ method: 'GET', path: '/npcs' }, o)
  }

  // ---- the player's side (the game may call these too) ----
  /** Starts a conversation; with `save` (from `save()`), restores one. */
  start(npc: string, o?: CallOptions & { save?: unknown }): Promise<CreatedConversation> {
    return this.#json({ method: 'POST', path: '/conversations', body: o?.save === undefined ? { npc } : { npc, save: o.save } }, o)
  }
  restore(npc: string, save: unknown, o?: CallOptions): Promise<CreatedConversation> {
    return this.start(npc, { ...o, save })
  }
  /** One line, answered whole. */
  say(id: string, text: string, o?: CallOptions): Promise<Turn> {
    return this.#json({ method: 'POST', path: `/conversations/${enc(id)}/messages`, body: { text } }, o)
  }
  /** One line, answered as it is written: `delta` events, then one `done` with the turn. */
  stream(id: string, text: string, o?: CallOptions): AsyncGenerator<StreamEvent, Turn> {
    return this.#stream({ method: 'POST', path: `/conversations/${enc(id)}/messages`, body: { text }, stream: true }, o)
  }
  view(id: string, o?: CallOptions): Promise<ConversationView> {
    return this.#json({ method: 'GET', path: `/conversations/${enc(id)}` }, o)
  }
  /** A signed save: keep it anywhere; the server refuses it back if anything in it changed. */
  save(id: string, o?: CallOptions): Promise<SignedSaveBody> {
    return this.#json({ method: 'GET', path: `/conversations/${enc(id)}/save` }, o)
  }
  async leave(id: string, o?: CallOptions): Promise<void> {
    await this.#send({ method: 'DELETE', path: `/conversations/${enc(id)}`, goneIsDone: true }, o)
  }

  /** What the NPC remembers of this player (for the game: of the player it acts for). */
  memory(npc: string, o?: CallOptions): Promise<MemoryView> {
    return this.#json({ method: 'GET', path: `/memory/${enc(npc)}` }, o)
  }
  /** A new game: this player's record with `npc` (or with every NPC) is cleared; conversations begun before are not remembered. */
  newGame(npc?: string, o?: CallOptions): Promise<NewGameDone> {
    return this.#json({ method: 'POST', path: '/memory/new-game', body: npc === undefined ? {} : { npc } }, o)
  }

  // ---- the game's side (needs gameKey) ----
  /** The right to be forgotten: deletes the records of the player this client acts for (`forPlayer`), with `npc` or with every NPC. */
  forget(npc?: string, o?: CallOptions): Promise<Forgotten> {
    return this.#json({ method: 'DELETE', path: npc === undefined ? '/memory' : `/memory/${enc(npc)}` }, o)
  }
  give(id: string, gift: { item: string; count?: number; max?: number }, o?: CallOptions): Promise<Changed> {
    return this.#json({ method: 'POST', path: `/conversations/${enc(id)}/items`, body: gift }, o)
  }
  flag(id: string, flag: string, on = true, o?: CallOptions): Promise<Changed> {
    return this.#json({ method: 'POST', path: `/conversations/${enc(id)}/flags`, body: { flag, on } }, o)
  }
  /** A variable the game owns: a number within its bounds, or one of its words. */
  setVar(id: string, name: string, value: number | string, o?: CallOptions): Promise<Changed> {
    return this.#json({ method: 'POST', path: `/conversations/${enc(id)}/vars`, body: { name, value } }, o)
  }
  end(id: string, o?: CallOptions): Promise<Turn> {
    return this.#json({ method: 'POST', path: `/conversations/${enc(id)}/end`, body: {} }, o)
  }
  inspect(id: string, o?: CallOptions): Promise<InspectorView> {
    return this.#json({ method: 'GET', path: `/conversations/${enc(id)}/inspect` }, o)
  }
  /** An unsigned snapshot, for the game's own servers; restore it with `start(npc, { save })`. */
  snapshot(id: string, o?: CallOptions): Promise<Record<string, unknown>> {
    return this.#json({ method: 'GET', path: `/conversations/${enc(id)}/snapshot` }, o)
  }
  /** A token for one of the game's players, for its game client to send as `playerToken`. */
  playerToken(player: string, o?: CallOptions & { ttlSeconds?: number }): Promise<PlayerToken> {
    return this.#json({ method: 'POST', path: '/player-tokens', body: o?.ttlSeconds === undefined ? { player } : { player, ttlSeconds: o.ttlSeconds } }, o)
  }

  // ---- the wire ----
  async #json<T>(s: Send, o: CallOptions | undefined): Promise<T> {
    const res = await this.#send(s, o)
    try {
      return (await res.json()) as T
    } catch (cause) {
      throw new ParleyError(res.status, 'bad_response', 'the server answered with something that is not JSON', undefined, { cause })
    }
  }

  async *#stream(s: Send, o: CallOptions | undefined): AsyncGenerator<StreamEvent, Turn> {
    const key = o?.idempotencyKey ?? newKey()
    let shown = ''
    for (let attempt = 1; ; attempt++) {
      const res = await this.#send(s, { ...o, idempotencyKey: key })
      let got = ''
      try {
        for await (const e of readEvents(res.body!)) {
          if (e.event === 'done') {
            yield { type: 'done', turn: e.turn }
            return e.turn
          }
          // After a cut, the retry's text (replayed whole, or run again) repeats what was shown: skip that part.
          const before = got
          got += e.text
          if (got.length <= shown.length && shown.startsWith(got)) continue
          if (!got.startsWith(shown)) {
            yield { type: 'restart' }
            shown = ''
            yield { type: 'delta', text: got }
          } else yield { type: 'delta', text: got.slice(Math.max(shown.length, before.length)) }
          shown = got
        }
        throw new ParleyError(0, 'stream_cut', 'the connection closed before the turn finished')
      } catch (error) {
        const e = asParleyError(error, o?.signal)
        // The same key again: the server answers with the turn it finished, or runs the one it never did.
        // An error event (status 200) is retried only when the store refused to keep the turn (`conflict`).
        const wait = delayBefore(e.status === 200 ? new ParleyError(e.code === 'conflict' ? 409 : 500, e.code, e.message) : e, attempt, this.#retry)
        if (wait === undefined) throw e
        await sleep(wait, o?.signal)
      }
    }
  }

  async #send(s: Send, o: CallOptions | undefined): Promise<Response> {
    const changes = s.method !== 'GET'
    const key = changes && s.method === 'POST' ? (o?.idempotencyKey ?? newKey()) : undefined
    for (let attempt = 1; ; attempt++) {
      let error: ParleyError
      try {
        const res = await this.#fetchOnce(s, key, o?.signal)
        if (res.ok) return res
        error = await errorFrom(res)
        if (s.goneIsDone && attempt > 1 && res.status === 404) return res
      } catch (e) {
        error = asParleyError(e, o?.signal)
      }
      const wait = delayBefore(error, attempt, this.#retry)
      if (wait === undefined) throw error
      await sleep(wait, o?.signal)
    }
  }

  async #fetchOnce(s: Send, key: string | undefined, signal: AbortSignal | undefined): Promise<Response> {
    if (signal?.aborted) throw aborted(signal)
    const timeout = AbortSignal.timeout(this.#o.timeoutMs ?? 30_000)
    const headers: Record<string, string> = { accept: s.stream ? 'text/event-stream' : 'application/json' }
    if (s.body !== undefined) headers['content-type'] = 'application/json'
    if (key !== undefined) headers['idempotency-key'] = key
    if (this.#o.gameKey) headers.authorization = `Bearer ${this.#o.gameKey}`
    if (this.#o.gameKey && this.#o.player !== undefined) headers['x-parley-player'] = this.#o.player
    if (this.#token) headers['x-parley-client'] = this.#token
    const f = this.#o.fetch ?? globalThis.fetch
    let res: Response
    try {
      res = await f(`${this.#o.baseUrl}${s.path}`, {
        method: s.method,
        headers,
        body: s.body === undefined ? null : JSON.stringify(s.body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        credentials: 'same-origin',
      })
    } catch (e) {
      if (signal?.aborted) throw aborted(signal)
      if (timeout.aborted) throw new ParleyError(0, 'timeout', `no answer within ${this.#o.timeoutMs ?? 30_000} ms`, undefined, { cause: e })
      throw new ParleyError(0, 'network', 'the request did not reach the server', undefined, { cause: e })
    }
    this.#keepIdentity(res)
    return res
  }

  /** Outside a browser nobody keeps cookies: keep the server-issued player id and send it as a header. */
  #keepIdentity(res: Response): void {
    if (this.#o.gameKey || this.#token) return
    const set = res.headers.get('set-cookie')
    const token = set && /(?:^|[;,]\s*)parley_client=([^;,\s]+)/.exec(set)?.[1]
    if (token) this.#token = token
  }
}

export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  return new ParleyClient(options)
}

function asParleyError(e: unknown, signal: AbortSignal | undefined): ParleyError {
  if (signal?.aborted) return aborted(signal)
  if (e instanceof ParleyError) return e
  return new ParleyError(0, 'network', 'the connection failed', undefined, { cause: e })
}

const enc = encodeURIComponent
const newKey = () => crypto.randomUUID()
