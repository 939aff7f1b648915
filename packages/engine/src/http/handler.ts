import type { z } from 'zod'
import type { Npc } from '../content/schema.ts'
import { Conversation, restoreConversation, type ConversationOptions } from '../conversation/conversation.ts'
import type { TurnResult } from '../conversation/results.ts'
import { isParleyError } from '../errors.ts'
import type { Provider } from '../providers/types.ts'
import { createBody, flagBody, itemBody, messageBody } from './bodies.ts'
import { RateLimiter } from './rate-limit.ts'
import { MemoryConversationStore } from '../store/memory.ts'
import { trimAnswers, type ConversationStore, type StoredConversation } from '../store/types.ts'

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
  /** Conversations untouched this long are dropped. Default 30 minutes. */
  idleMs?: number
  /** Turns and gifts per client per minute. Default 60. */
  ratePerMinute?: number
  /**
   * Where conversations live between requests. Default: in this process's memory. Give a
   * `RedisConversationStore` (`@parley/engine/redis`) to serve one conversation from any server.
   */
  store?: ConversationStore
  now?: () => number
}


const CLIENT_COOKIE = 'parley_client'
const ID = /^[A-Za-z0-9_-]{20,64}$/

/** Unguessable: 128 random bits, URL-safe. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

class HttpProblem extends Error {
  readonly status: number
  readonly code: string
  readonly headers: Record<string, string>
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

/**
 * The engine over HTTP, web-standard only (`Request` in, `Response` out), so the same handler
 * runs in Node, Deno, Bun, workers, or in-process in tests. Each client gets an opaque id (a
 * cookie, or the `x-parley-client` header) and sees only its own conversations: another client's
 * id answers 404, as if it did not exist.
 */
export function createDialogueHandler(options: DialogueHandlerOptions): (request: Request) => Promise<Response> {
  const base = (options.basePath ?? '/api').replace(/\/$/, '')
  const maxBody = options.maxBodyBytes ?? 16 * 1024
  const idleMs = options.idleMs ?? 30 * 60_000
  const now = options.now ?? Date.now
  const limiter = new RateLimiter(options.ratePerMinute ?? 60, 60_000, now)
  const npcs = new Map(options.npcs.map((n) => [n.id, n]))
  const store = options.store ?? new MemoryConversationStore({ ttlMs: idleMs, now })
  const providerFor = (npc: Npc) => (typeof options.provider === 'function' ? options.provider(npc) : options.provider)
  const providerName = (npc: Npc) => providerFor(npc).name
  const conversationOptions = (npc: Npc) => ({ provider: providerFor(npc), lore: options.lore, actions: options.actions ?? { handler: () => ({ ok: true as const }) } })
  let lastSweep = now()

  function sweep() {
    const t = now()
    if (t - lastSweep < 60_000) return
    lastSweep = t
    limiter.sweep()
  }

  /**
   * Requests to one conversation are answered one after another in this process; across
   * processes the store's compare-and-set decides, and the loser answers 409.
   */
  const locks = new Map<string, Promise<void>>()
  async function acquire(id: string): Promise<() => void> {
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    const before = locks.get(id) ?? Promise.resolve()
    const chained = before.then(() => mine)
    locks.set(id, chained)
    await before
    return () => {
      release()
      if (locks.get(id) === chained) locks.delete(id)
    }
  }

  interface Loaded {
    id: string
    record: Omit<StoredConversation, 'snapshot'>
    convo: Conversation
  }

  /**
   * Live conversations this server has loaded, by the store version they match. A request asks
   * the store only for the version (cheap) and reuses the live one when no other server has written
   * since; otherwise it loads and restores the snapshot. Bounded: the least recently used go first.
   */
  const live = new Map<string, Loaded>()
  const MAX_LIVE = 2000
  function remember(l: Loaded) {
    live.delete(l.id)
    live.set(l.id, l)
    if (live.size > MAX_LIVE) {
      const [oldest] = live.keys()
      forget(oldest!)
    }
  }
  function forget(id: string) {
    live.get(id)?.convo.stop()
    live.delete(id)
  }

  async function load(id: string, client: string): Promise<Loaded> {
    const head = ID.test(id) ? await store.head(id) : undefined
    if (!head) forget(id)
    if (!head || head.owner !== client) throw new HttpProblem(404, 'not_found', 'no such conversation (it may have expired; start a new one)')
    const cached = live.get(id)
    if (cached && cached.record.version === head.version) {
      remember(cached)
      return cached
    }
    const record = await store.get(id)
    if (!record || record.owner !== client) throw new HttpProblem(404, 'not_found', 'no such conversation (it may have expired; start a new one)')
    const npc = npcs.get(record.snapshot.npc)
    if (!npc) throw new HttpProblem(404, 'unknown_npc', `this server has no NPC "${record.snapshot.npc}"`)
    const { snapshot, ...rest } = record
    const loaded = { id, record: rest, convo: restoreConversation(npc, snapshot, conversationOptions(npc)) }
    if (cached) forget(id)
    remember(loaded)
    return loaded
  }

  async function save(l: Loaded, answer?: { key: string; value: unknown }): Promise<void> {
    const lastRequest = l.convo.lastRequest()
    const record = {
      owner: l.record.owner,
      answers: answer ? trimAnswers({ ...l.record.answers, [answer.key]: answer.value }) : l.record.answers,
      view: lastRequest ? { lastRequest, lore: l.convo.lastLore() } : l.record.view,
    }
    const ok = await store.put(l.id, { ...record, snapshot: l.convo.snapshot() }, l.record.version)
    if (!ok) {
      // The live copy ran a turn the store refused: it no longer matches any stored version.
      forget(l.id)
      throw new HttpProblem(409, 'conflict', 'this conversation changed on another server during this request; send it again')
    }
    l.record = { ...record, version: l.record.version + 1 }
  }

  /** What a designer's panel shows after each turn: small, whatever the conversation's length. */
  function status(l: Loaded) {
    const c = l.convo
    const last = c.lastRequest()
    return {
      id: l.id,
      npc: c.npc.id,
      provider: providerName(c.npc),
      state: c.state,
      turns: c.turns,
      items: c.items(),
      flags: c.flags(),
      secrets: c.secrets(),
      // Passphrase patterns are masked: this view reaches the player's browser.
      explain: c.explain({ hidePatterns: true }),
      lastRequest: last ?? l.record.view?.lastRequest ?? null,
      lore: last ? c.lastLore() : (l.record.view?.lore ?? []),
    }
  }

  /** The whole conversation, history included: for loading a page or a save, not for every turn. */
  function inspect(l: Loaded) {
    return { ...status(l), history: l.convo.history() }
  }

  async function route(request: Request, client: string): Promise<Response> {
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
          provider: providerName(n),
        })),
      })
    }
    if (parts[0] !== 'conversations') throw new HttpProblem(404, 'not_found', `no route ${method} ${url.pathname}`)

    if (parts.length === 1 && method === 'POST') {
      const body = await readJson(request, createBody, maxBody)
      const npc = npcs.get(body.npc)
      if (!npc) throw new HttpProblem(404, 'unknown_npc', `no NPC "${body.npc}"`)
      const convo = body.snapshot === undefined ? new Conversation(npc, conversationOptions(npc)) : restoreConversation(npc, body.snapshot, conversationOptions(npc))
      const id = randomId()
      if (!(await store.put(id, { snapshot: convo.snapshot(), owner: client, answers: {} }, 0))) throw new HttpProblem(409, 'conflict', 'could not create the conversation; try again')
      const loaded = { id, record: { owner: client, answers: {}, version: 1 }, convo }
      remember(loaded)
      return json({ ...inspect(loaded), greeting: npc.greeting ?? null }, 201)
    }

    const id = parts[1] ?? ''
    const action = parts[2]
    if (parts.length === 2 && method === 'GET') {
      const l = await load(id, client)
      await store.touch(id)
      return json(inspect(l))
    }
    if (parts.length === 2 && method === 'DELETE') {
      await load(id, client)
      await store.delete(id)
      forget(id)
      return new Response(null, { status: 204 })
    }
    if (parts.length === 3 && action === 'snapshot' && method === 'GET') return json((await load(id, client)).convo.snapshot())
    if (parts.length === 3 && method === 'POST' && (action === 'messages' || action === 'items' || action === 'flags')) {
      if (!limiter.take(client)) throw new HttpProblem(429, 'rate_limited', 'too many requests; slow down', { 'retry-after': String(limiter.retryAfterSeconds(client)) })
      const key = request.headers.get('idempotency-key') ?? undefined
      if (key !== undefined && !/^[\x21-\x7e]{1,128}$/.test(key)) throw new HttpProblem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 128 visible ASCII characters')
      const body = await readJson(request, action === 'items' ? itemBody : action === 'flags' ? flagBody : messageBody, maxBody)
      const sse = action === 'messages' && (request.headers.get('accept') ?? '').includes('text/event-stream')
      const release = await acquire(id)
      let streaming = false
      try {
        const l = await load(id, client)
        // A retried request gets the answer it would have had, not a second turn.
        if (key !== undefined && key in l.record.answers) return sse ? replay(l.record.answers[key]) : json(l.record.answers[key])
        if (sse) {
          streaming = true
          return streamTurn(l, (body as { text: string }).text, key, release)
        }
        try {
          let outcome: object
          if (action === 'items') {
            const b = body as { item: string; count?: number }
            outcome = { unlocked: l.convo.give(b.item, b.count ?? 1).unlocked }
          } else if (action === 'flags') {
            const b = body as { flag: string; on?: boolean }
            outcome = { unlocked: l.convo.setFlag(b.flag, b.on ?? true).unlocked }
          } else {
            outcome = publicResult(await l.convo.say((body as { text: string }).text))
          }
          const answer = { ...outcome, conversation: status(l) }
          await save(l, key === undefined ? undefined : { key, value: answer })
          return json(answer)
        } catch (error) {
          // A turn that failed part-way leaves the live copy unlike the stored one.
          if (!(error instanceof HttpProblem)) forget(l.id)
          throw error
        }
      } finally {
        if (!streaming) release()
      }
    }
    throw new HttpProblem(405, 'method_not_allowed', `${method} is not allowed here`)
  }

  function sseResponse(body: ReadableStream<Uint8Array>): Response {
    return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } })
  }

  const encoder = new TextEncoder()
  const event = (name: string, data: unknown) => encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)

  function replay(answer: unknown): Response {
    const text = (answer as { text?: string }).text ?? ''
    return sseResponse(new ReadableStream({ start(out) {
      if (text) out.enqueue(event('delta', { text }))
      out.enqueue(event('done', answer))
      out.close()
    } }))
  }

  function streamTurn(l: Loaded, text: string, key: string | undefined, release: () => void): Response {
    const controller = new AbortController()
    return sseResponse(new ReadableStream<Uint8Array>({
      async start(out) {
        const send = (name: string, data: unknown) => out.enqueue(event(name, data))
        try {
          const turn = l.convo.stream(text, { signal: controller.signal })
          for await (const delta of turn) send('delta', { text: delta })
          const answer = { ...publicResult(await turn.result), conversation: status(l) }
          await save(l, key === undefined ? undefined : { key, value: answer })
          send('done', answer)
        } catch (error) {
          if (!(error instanceof HttpProblem)) forget(l.id)
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

  return async (request: Request): Promise<Response> => {
    sweep()
    const cookie = /(?:^|;\s*)parley_client=([A-Za-z0-9_-]{20,64})/.exec(request.headers.get('cookie') ?? '')?.[1]
    const header = request.headers.get('x-parley-client')
    const client = header && ID.test(header) ? header : (cookie ?? randomId())
    let response: Response
    try {
      response = await route(request, client)
    } catch (error) {
      const problem = toProblem(error)
      response = json(problemBody(problem), problem.status, problem.headers)
    }
    if (!cookie && !header) {
      response.headers.append('set-cookie', `${CLIENT_COOKIE}=${client}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000`)
    }
    return response
  }
}

/** What the page and the game see of a turn: never raw error text, only codes. */
function publicResult(r: TurnResult) {
  return {
    text: r.text,
    kind: r.kind,
    state: r.state,
    unlocked: r.unlocked,
    ...(r.error && { error: { code: r.error.code, glmCode: r.error.glmCode ?? null, retryable: r.error.retryable } }),
    ...(r.finishReason && { finishReason: r.finishReason }),
    ...(r.actions && { actions: r.actions }),
  }
}

function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error
  if (isParleyError(error)) {
    const status = error.code === 'conversation_ended' ? 409 : error.code === 'aborted' ? 409 : 400
    return new HttpProblem(status, error.code, error.message)
  }
  if (error instanceof Error && error.name === 'StoreUnavailableError') return new HttpProblem(503, 'store_unavailable', 'conversations are unavailable for a moment; try again shortly', { 'retry-after': '1' })
  return new HttpProblem(500, 'internal', 'something went wrong on the server')
}

function problemBody(p: HttpProblem) {
  return { error: { code: p.code, message: p.message } }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } })
}

async function readJson<T extends z.ZodType>(request: Request, schema: T, maxBytes: number): Promise<z.output<T>> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > maxBytes) throw new HttpProblem(413, 'body_too_large', `request body over ${maxBytes} bytes`)
  const reader = request.body?.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxBytes) {
        void reader.cancel()
        throw new HttpProblem(413, 'body_too_large', `request body over ${maxBytes} bytes`)
      }
      chunks.push(value)
    }
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) (bytes.set(c, offset), (offset += c.byteLength))
  let data: unknown
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new HttpProblem(400, 'invalid_json', 'the request body must be JSON')
  }
  const parsed = schema.safeParse(data)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new HttpProblem(400, 'invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`)
  }
  return parsed.data
}
