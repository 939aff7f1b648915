/**
 * The engine over HTTP, web-standard only (`Request` in, `Response` out), so the same handler runs
 * in Node, Deno, Bun, workers, or in-process in tests. This file owns the routes and how they
 * compose the pieces beside it: who is calling (caller.ts), signed saves (saves.ts), web hygiene
 * (web-guard.ts), limits (limits.ts), the live conversations (live-cache.ts), views (views.ts).
 *
 * Two kinds of caller: players (browsers and game clients, known by a server-signed token) start
 * conversations, talk, read their own view and keep signed saves; the game (its own server, with
 * a game key) also gives items, sets flags, ends conversations, restores unsigned saves, reads
 * any conversation and its inspector view. Without a game key the game routes are off.
 */
import type { Npc } from '../content/schema.ts'
import { ParleyError } from '../errors.ts'
import { Conversation, restoreConversation, type ConversationOptions } from '../conversation/conversation.ts'
import type { Provider } from '../providers/types.ts'
import { MemoryConversationStore } from '../store/memory.ts'
import { storedAnswer, withAnswer, type ConversationStore } from '../store/types.ts'
import { createBody, endBody, flagBody, varBody, itemBody, messageBody, playerTokenBody } from './bodies.ts'
import { identifyCaller, requireGame, type Caller } from './caller.ts'
import { ACCOUNT_ID, clientCookie, gamePlayerIdentity, issueClientToken } from './client-id.ts'
import { HandlerSettings } from './config.ts'
import { RequestLimits } from './limits.ts'
import { LiveConversations, type Live } from './live-cache.ts'
import { HttpProblem, json, problemBody, toProblem } from './problem.ts'
import { readJson } from './read-body.ts'
import { looksLikeSignedSave, openSave, sealSave } from './saves.ts'
import { KeyRing, type SigningKey } from './signing.ts'
import { replayAsSse, sseEvent, sseResponse } from './sse.ts'
import { inspectorStatus, inspectorView, playerStatus, playerView, publicResult, type ViewSource } from './views.ts'
import { checkHost, checkStateChange, clientAddress, isHttps, type AllowedHosts } from './web-guard.ts'

export interface DialogueHandlerOptions {
  npcs: readonly Npc[]
  provider: Provider | ((npc: Npc) => Provider)
  /** Embeddings for NPCs whose lore asks for them; without, lore is retrieved with BM25. */
  lore?: ConversationOptions['lore']
  /**
   * How actions the NPC takes are decided. A server is the game's authority: by default it carries
   * out every action the NPC file offers (the engine has already checked the offer and arguments).
   */
  actions?: ConversationOptions['actions']
  /** Path prefix the handler is mounted under. Default `/api`. */
  basePath?: string
  /** Largest request body accepted. Default 16 KB. */
  maxBodyBytes?: number
  /** A request body still arriving after this is abandoned with 408. Default 10 s. */
  bodyTimeoutMs?: number
  /** Conversations untouched this long are dropped. Default 30 minutes. */
  idleMs?: number
  /** Turns per player per minute. Default 60. */
  ratePerMinute?: number
  /** Turns per client address per minute. Default 600. */
  addressRatePerMinute?: number
  /** New conversations per player per minute. Default 10. */
  createPerMinute?: number
  /** New conversations per client address per minute. Default 30. */
  addressCreatePerMinute?: number
  /**
   * Most conversations this process keeps live. Past it, the least recently used leave memory
   * (a shared store such as Redis keeps them); a store in this process's memory refuses new ones
   * with 503 and Retry-After instead. Default 10,000.
   */
  maxLiveConversations?: number
  /**
   * Where conversations live between requests. Default: in this process's memory. Give a
   * `RedisConversationStore` (`@parley/engine/redis`) to serve one conversation from any server.
   */
  store?: ConversationStore
  /**
   * Game keys accepted as `Authorization: Bearer …` (several while rotating). Without one, the
   * game routes (items, flags, end, unsigned restores, inspector, player tokens) are off.
   */
  gameKeys?: readonly string[]
  /**
   * Keys that sign saves and player tokens; the first signs, all verify. Servers behind one game
   * share them. Without, a key is made for this process (`handler.ephemeralSigningKey`), and saves
   * and browser ids do not survive a restart.
   */
  signingKeys?: readonly SigningKey[] | KeyRing
  /**
   * Show players the inspector view (flags, every secret's condition with passphrases masked, the
   * last request's messages and lore) in their own conversation's answers. For a demo that is its
   * own game; off by default.
   */
  inspectorForPlayers?: boolean
  /** Origins allowed on state-changing requests that carry an `Origin`. Default: the request's own. */
  allowedOrigins?: readonly string[]
  /** Host names served. A server bound to loopback should say `'loopback'`. Default `'any'`. */
  allowedHosts?: AllowedHosts
  /** How many proxies in front of this server to trust for `X-Forwarded-For` / `-Proto`. Default 0: none. */
  trustProxy?: number
  /** Saves restore only for the player who took them (the game may restore any). Default true. */
  bindSavesToPlayer?: boolean
  /** How often idle conversations and spent rate-limit buckets are swept. Default one minute. */
  sweepEveryMs?: number
  now?: () => number
}

/** What the server adapter knows that a `Request` does not. */
export interface RequestContext {
  /** The peer's socket address, for per-address limits. Without it, every caller shares one address bucket. */
  address?: string | undefined
}

export interface DialogueHandler {
  (request: Request, context?: RequestContext): Promise<Response>
  /** True when no signing key was configured and one was made for this process. */
  readonly ephemeralSigningKey: boolean
  /** Live conversations, rate-limit buckets and stored conversations held now. */
  stats(): { live: number; limiterBuckets: number; stored: number | null }
  /** Stops the sweep timer (and the store's, if the handler made it). */
  close(): Promise<void>
}

const ID = /^[0-9a-f]{32}$/
const BROWSER_TOKEN_SECONDS = 365 * 86_400

export function createDialogueHandler(options: DialogueHandlerOptions): DialogueHandler {
  const config = new HandlerSettings(options)
  const base = (options.basePath ?? '/api').replace(/\/$/, '')
  const now = options.now ?? Date.now
  const gameKeys = [...(options.gameKeys ?? [])].filter((k) => k.length > 0)
  const ring = options.signingKeys instanceof KeyRing ? options.signingKeys : options.signingKeys?.length ? new KeyRing(options.signingKeys) : KeyRing.ephemeral()
  const limits = new RequestLimits(config.limits, now)
  const npcs = new Map(options.npcs.map((n) => [n.id, n]))
  const ownStore = options.store ? undefined : new MemoryConversationStore({ ttlMs: config.idleMs, now, sweepEveryMs: config.sweepEveryMs })
  const store: ConversationStore = options.store ?? ownStore!
  const live = new LiveConversations(config.maxLive, now)
  const providerFor = (npc: Npc) => (typeof options.provider === 'function' ? options.provider(npc) : options.provider)
  const trustProxy = options.trustProxy ?? 0
  const allowedHosts = options.allowedHosts ?? 'any'
  const bindSaves = options.bindSavesToPlayer ?? true

  const timer = setInterval(() => {
    limits.sweep()
    live.sweep(config.idleMs)
  }, config.sweepEveryMs)
  ;(timer as { unref?: () => void }).unref?.()

  /** The provider sees a pseudonym per player, stable under the signing key, never the account id. */
  async function conversationOptions(npc: Npc, owner: string): Promise<ConversationOptions> {
    const userId = owner === 'game' ? undefined : `u-${(await ring.sign('parley.user.v1', owner)).split('.')[1]!.slice(0, 32)}`
    return { provider: providerFor(npc), lore: options.lore, actions: options.actions ?? { handler: () => ({ ok: true as const }) }, userId }
  }

  const notFound = () => new HttpProblem(404, 'not_found', 'no such conversation (it may have expired; start a new one)')
  const mayUse = (caller: Caller, owner: string) => (caller.player === undefined ? caller.kind === 'game' : caller.player === owner)

  async function load(id: string, caller: Caller): Promise<Live> {
    const head = ID.test(id) ? await store.head(id) : undefined
    if (!head) live.forget(id)
    if (!head || !mayUse(caller, head.owner)) throw notFound()
    const cached = live.get(id)
    if (cached && cached.record.version === head.version) {
      live.remember(cached)
      return cached
    }
    const record = await store.get(id)
    if (!record || !mayUse(caller, record.owner)) throw notFound()
    const npc = npcs.get(record.snapshot.npc)
    if (!npc) throw new HttpProblem(404, 'unknown_npc', `this server has no NPC "${record.snapshot.npc}"`)
    const { snapshot, ...rest } = record
    const loaded: Live = { id, record: rest, convo: restoreConversation(npc, snapshot, await conversationOptions(npc, record.owner)) }
    if (cached) live.forget(id)
    live.remember(loaded)
    return loaded
  }

  async function save(l: Live, answer?: { key: string; value: unknown }): Promise<void> {
    const lastRequest = l.convo.lastRequest()
    const record = {
      owner: l.record.owner,
      answers: answer ? withAnswer(l.record.answers, answer.key, answer.value) : l.record.answers,
      view: lastRequest ? { lastRequest, lore: l.convo.lastLore() } : l.record.view,
    }
    const ok = await store.put(l.id, { ...record, snapshot: l.convo.snapshot() }, l.record.version)
    if (!ok) {
      // The live copy ran a turn the store refused: it no longer matches any stored version.
      live.forget(l.id)
      throw new HttpProblem(409, 'conflict', 'this conversation changed on another server during this request; send it again')
    }
    l.record = { ...record, version: l.record.version + 1 }
  }

  const source = (l: Live): ViewSource => ({ id: l.id, convo: l.convo, provider: providerFor(l.convo.npc).name, stored: l.record.view })
  const inspects = (caller: Caller) => caller.kind === 'game' || options.inspectorForPlayers === true
  /** What a caller sees after each turn or gift. */
  const status = (l: Live, caller: Caller) => (inspects(caller) ? inspectorStatus(source(l)) : playerStatus(source(l)))
  const view = (l: Live, caller: Caller) => (inspects(caller) ? inspectorView(source(l)) : playerView(source(l)))

  async function create(request: Request, caller: Caller, address: string | undefined): Promise<Response> {
    limits.take('create', { player: caller.player, address: caller.kind === 'player' ? address : undefined })
    const full = store.size && store.size() >= config.maxLive
    if (full) {
      const wait = Math.max(1, Math.ceil((store.nextExpiryMs?.() ?? 60_000) / 1000))
      throw new HttpProblem(503, 'server_full', 'this server holds as many conversations as it may; try again later', { 'retry-after': String(wait) })
    }
    const body = await readJson(request, createBody, config.body)
    const npc = npcs.get(body.npc)
    if (!npc) throw new HttpProblem(404, 'unknown_npc', `no NPC "${body.npc}"`)
    const owner = caller.player ?? 'game'
    let snapshot: unknown
    if (body.save !== undefined) {
      // A player's save must be one this server signed; the game may also restore its own bare snapshots.
      if (caller.kind === 'game' && !looksLikeSignedSave(body.save)) snapshot = body.save
      else snapshot = await openSave(ring, body.save, { npc, player: caller.kind === 'player' && bindSaves ? caller.player : undefined })
    }
    const convoOptions = await conversationOptions(npc, owner)
    const convo = snapshot === undefined ? new Conversation(npc, convoOptions) : restoreConversation(npc, snapshot, convoOptions)
    const id = randomId()
    if (!(await store.put(id, { snapshot: convo.snapshot(), owner, answers: {} }, 0))) {
      convo.stop()
      throw new HttpProblem(409, 'conflict', 'could not create the conversation; try again')
    }
    const loaded: Live = { id, record: { owner, answers: {}, version: 1 }, convo }
    live.remember(loaded)
    return json({ ...view(loaded, caller), greeting: npc.greeting ?? null }, 201)
  }

  /** Gifts, flags, lines and endings: one at a time per conversation, each saved with compare-and-set. */
  async function act(request: Request, caller: Caller, address: string | undefined, id: string, action: 'messages' | 'items' | 'flags' | 'vars' | 'end'): Promise<Response> {
    if (action !== 'messages') requireGame(caller, gameKeys, `POST …/${action}`)
    else limits.take('turn', { player: caller.player, address: caller.kind === 'player' ? address : undefined })
    const rawKey = request.headers.get('idempotency-key') ?? undefined
    if (rawKey !== undefined && !/^[\x21-\x7e]{1,128}$/.test(rawKey)) throw new HttpProblem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 128 visible ASCII characters')
    // The game's answers and the player's are kept apart: each gets back only what it was given.
    const key = rawKey === undefined ? undefined : `${caller.kind}:${rawKey}`
    const work = await readWork(request, action)
    const sse = work.action === 'messages' && (request.headers.get('accept') ?? '').includes('text/event-stream')
    const release = await live.acquire(id)
    let streaming = false
    try {
      const l = await load(id, caller)
      // A retried request gets the answer it would have had, not a second turn.
      const earlier = key === undefined ? undefined : storedAnswer(l.record.answers, key)
      if (earlier) return sse ? replayAsSse(earlier.value) : json(earlier.value)
      if (sse) {
        streaming = true
        return streamTurn(l, caller, (work as { text: string }).text, key, release)
      }
      try {
        let outcome: object
        if (work.action === 'items') outcome = give(l, work)
        else if (work.action === 'flags') outcome = flag(l, work)
        else if (work.action === 'vars') outcome = setVar(l, work)
        else if (work.action === 'end') outcome = publicResult(l.convo.end())
        else outcome = publicResult(await l.convo.say(work.text))
        const answer = { ...outcome, conversation: status(l, caller) }
        await save(l, key === undefined ? undefined : { key, value: answer })
        return json(answer)
      } catch (error) {
        // A turn that failed part-way leaves the live copy unlike the stored one.
        if (!(error instanceof HttpProblem)) live.forget(l.id)
        throw error
      }
    } finally {
      if (!streaming) release()
    }
  }

  type Work =
    | { action: 'messages'; text: string }
    | { action: 'items'; item: string; count?: number | undefined; max?: number | undefined }
    | { action: 'flags'; flag: string; on?: boolean | undefined }
    | { action: 'vars'; name: string; value: number | string }
    | { action: 'end' }

  async function readWork(request: Request, action: Work['action']): Promise<Work> {
    if (action === 'items') return { action, ...(await readJson(request, itemBody, config.body)) }
    if (action === 'flags') return { action, ...(await readJson(request, flagBody, config.body)) }
    if (action === 'vars') return { action, ...(await readJson(request, varBody, config.body)) }
    if (action === 'end') return (await readJson(request, endBody, config.body), { action })
    return { action, ...(await readJson(request, messageBody, config.body)) }
  }

  function give(l: Live, b: { item: string; count?: number | undefined; max?: number | undefined }) {
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

  function flag(l: Live, b: { flag: string; on?: boolean | undefined }) {
    const declared = l.convo.npc.flags
    if (declared && !Object.hasOwn(declared, b.flag)) throw new HttpProblem(400, 'unknown_flag', `${l.convo.npc.id} declares no flag "${b.flag}"; declared: ${Object.keys(declared).join(', ') || 'none'}`)
    return { unlocked: l.convo.setFlag(b.flag, b.on ?? true).unlocked }
  }

  function setVar(l: Live, b: { name: string; value: number | string }) {
    try {
      return { unlocked: l.convo.setVar(b.name, b.value).unlocked }
    } catch (error) {
      // Refused before anything changed: an unknown name, the wrong kind, out of bounds.
      if (error instanceof ParleyError && (error.code === 'unknown_var' || error.code === 'invalid_var')) throw new HttpProblem(400, error.code, error.message)
      throw error
    }
  }

  function streamTurn(l: Live, caller: Caller, text: string, key: string | undefined, release: () => void): Response {
    const controller = new AbortController()
    return sseResponse(new ReadableStream<Uint8Array>({
      async start(out) {
        const send = (name: string, data: unknown) => out.enqueue(sseEvent(name, data))
        try {
          const turn = l.convo.stream(text, { signal: controller.signal })
          for await (const delta of turn) send('delta', { text: delta })
          const answer = { ...publicResult(await turn.result), conversation: status(l, caller) }
          await save(l, key === undefined ? undefined : { key, value: answer })
          send('done', answer)
        } catch (error) {
          if (!(error instanceof HttpProblem)) live.forget(l.id)
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

  async function route(request: Request, caller: Caller, address: string | undefined): Promise<Response> {
    const url = new URL(request.url)
    if (!url.pathname.startsWith(base + '/') && url.pathname !== base) throw new HttpProblem(404, 'not_found', 'not found')
    const parts = url.pathname.slice(base.length).split('/').filter(Boolean)
    const method = request.method

    if (parts[0] === 'npcs' && parts.length === 1 && method === 'GET') {
      return json({
        npcs: [...npcs.values()].map((n) => ({
          id: n.id,
          name: n.name,
          greeting: n.greeting ?? null,
          items: Object.entries(n.items).map(([id, i]) => ({ id, name: i.name, description: i.description ?? null })),
          provider: providerFor(n).name,
        })),
      })
    }
    if (parts[0] === 'player-tokens' && parts.length === 1 && method === 'POST') {
      requireGame(caller, gameKeys, 'POST /player-tokens')
      const body = await readJson(request, playerTokenBody, config.body)
      if (!ACCOUNT_ID.test(body.player)) throw new HttpProblem(400, 'invalid_player', 'player is 1 to 128 of A-Z a-z 0-9 _ . : @ + -')
      const expiresAt = Math.floor(now() / 1000) + (body.ttlSeconds ?? 86_400)
      return json({ token: await issueClientToken(ring, gamePlayerIdentity(body.player), expiresAt), player: body.player, expiresAt: new Date(expiresAt * 1000).toISOString() }, 201)
    }
    if (parts[0] !== 'conversations') throw new HttpProblem(404, 'not_found', `no route ${method} ${url.pathname}`)
    if (parts.length === 1 && method === 'POST') return create(request, caller, address)

    const id = parts[1] ?? ''
    const action = parts[2]
    if (parts.length === 2 && method === 'GET') {
      const l = await load(id, caller)
      await store.touch(id)
      return json(view(l, caller))
    }
    if (parts.length === 2 && method === 'DELETE') {
      await load(id, caller)
      await store.delete(id)
      live.forget(id)
      return new Response(null, { status: 204 })
    }
    if (parts.length === 3 && method === 'GET' && action === 'save') {
      const l = await load(id, caller)
      return json(await sealSave(ring, l.convo.snapshot(), l.record.owner))
    }
    if (parts.length === 3 && method === 'GET' && action === 'snapshot') {
      requireGame(caller, gameKeys, 'GET …/snapshot (an unsigned save)')
      return json((await load(id, caller)).convo.snapshot())
    }
    if (parts.length === 3 && method === 'GET' && action === 'inspect') {
      requireGame(caller, gameKeys, 'GET …/inspect')
      return json(inspectorView(source(await load(id, caller))))
    }
    if (parts.length === 3 && method === 'POST' && (action === 'messages' || action === 'items' || action === 'flags' || action === 'vars' || action === 'end')) {
      return act(request, caller, address, id, action)
    }
    throw new HttpProblem(405, 'method_not_allowed', `${method} is not allowed here`)
  }

  const handler = async (request: Request, context: RequestContext = {}): Promise<Response> => {
    let caller: Caller | undefined
    let response: Response
    try {
      const refused = checkHost(request, allowedHosts) ?? checkStateChange(request, { allowedOrigins: options.allowedOrigins, trustProxy })
      if (refused) throw new HttpProblem(refused.status, refused.code, refused.message)
      caller = await identifyCaller(request, { gameKeys, ring, now })
      response = await route(request, caller, clientAddress(request, context.address, trustProxy))
    } catch (error) {
      const problem = toProblem(error)
      response = json(problemBody(problem), problem.status, problem.headers)
    }
    if (caller?.kind === 'player' && caller.fresh) {
      const token = await issueClientToken(ring, caller.player, Math.floor(now() / 1000) + BROWSER_TOKEN_SECONDS)
      response.headers.append('set-cookie', clientCookie(token, BROWSER_TOKEN_SECONDS, isHttps(request, trustProxy)))
    }
    return response
  }

  return Object.assign(handler, {
    ephemeralSigningKey: ring.ephemeral,
    stats: () => ({ live: live.size, limiterBuckets: limits.size, stored: store.size?.() ?? null }),
    close: async () => {
      clearInterval(timer)
      live.clear()
      await ownStore?.close()
    },
  })
}

/** Unguessable: 128 random bits, hex. */
function randomId(): string {
  let s = ''
  for (const b of crypto.getRandomValues(new Uint8Array(16))) s += b.toString(16).padStart(2, '0')
  return s
}
