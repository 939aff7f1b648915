import type { z } from 'zod'
import type { Npc } from '../content/schema.ts'
import { Conversation, restoreConversation, type ConversationOptions } from '../conversation/conversation.ts'
import type { TurnResult } from '../conversation/results.ts'
import { isParleyError } from '../errors.ts'
import type { Provider } from '../providers/types.ts'
import { createBody, flagBody, itemBody, messageBody } from './bodies.ts'
import { RateLimiter } from './rate-limit.ts'

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
  /** At most this many live conversations per client. Default 20. */
  maxConversationsPerClient?: number
  now?: () => number
}

interface Entry {
  convo: Conversation
  owner: string
  lastUsed: number
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
  const maxPerClient = options.maxConversationsPerClient ?? 20
  const npcs = new Map(options.npcs.map((n) => [n.id, n]))
  const conversations = new Map<string, Entry>()
  const providerFor = (npc: Npc) => (typeof options.provider === 'function' ? options.provider(npc) : options.provider)
  const providerName = (npc: Npc) => providerFor(npc).name
  let lastSweep = now()

  function sweep() {
    const t = now()
    if (t - lastSweep < Math.min(idleMs, 60_000)) return
    lastSweep = t
    for (const [id, e] of conversations) {
      if (t - e.lastUsed > idleMs) {
        e.convo.stop()
        conversations.delete(id)
      }
    }
    limiter.sweep()
  }

  function owned(id: string, client: string): Entry {
    const e = ID.test(id) ? conversations.get(id) : undefined
    if (!e || e.owner !== client || now() - e.lastUsed > idleMs) throw new HttpProblem(404, 'not_found', 'no such conversation (it may have expired; start a new one)')
    e.lastUsed = now()
    return e
  }

  /** What a designer's panel shows after each turn: small, whatever the conversation's length. */
  function status(id: string, e: Entry) {
    const c = e.convo
    return {
      id,
      npc: c.npc.id,
      provider: providerName(c.npc),
      state: c.state,
      turns: c.turns,
      items: c.items(),
      flags: c.flags(),
      secrets: c.secrets(),
      lastRequest: c.lastRequest() ?? null,
      lore: c.lastLore(),
    }
  }

  /** The whole conversation, history included: for loading a page or a save, not for every turn. */
  function inspect(id: string, e: Entry) {
    return { ...status(id, e), history: e.convo.history() }
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
      const mine = [...conversations.values()].filter((e) => e.owner === client)
      if (mine.length >= maxPerClient) {
        const oldest = mine.sort((a, b) => a.lastUsed - b.lastUsed)[0]!
        for (const [id, e] of conversations) if (e === oldest) (e.convo.stop(), conversations.delete(id))
      }
      const conversationOptions = { provider: providerFor(npc), lore: options.lore, actions: options.actions ?? { handler: () => ({ ok: true as const }) } }
      const convo = body.snapshot === undefined ? new Conversation(npc, conversationOptions) : restoreConversation(npc, body.snapshot, conversationOptions)
      const id = randomId()
      const entry = { convo, owner: client, lastUsed: now() }
      conversations.set(id, entry)
      return json({ ...inspect(id, entry), greeting: npc.greeting ?? null }, 201)
    }

    const id = parts[1] ?? ''
    const action = parts[2]
    if (parts.length === 2 && method === 'GET') return json(inspect(id, owned(id, client)))
    if (parts.length === 2 && method === 'DELETE') {
      const e = owned(id, client)
      e.convo.stop()
      conversations.delete(id)
      return new Response(null, { status: 204 })
    }
    if (parts.length === 3 && action === 'snapshot' && method === 'GET') return json(owned(id, client).convo.snapshot())
    if (parts.length === 3 && method === 'POST' && (action === 'messages' || action === 'items' || action === 'flags')) {
      const e = owned(id, client)
      if (!limiter.take(client)) throw new HttpProblem(429, 'rate_limited', 'too many requests; slow down', { 'retry-after': String(limiter.retryAfterSeconds(client)) })
      if (action === 'items') {
        const body = await readJson(request, itemBody, maxBody)
        const { unlocked } = e.convo.give(body.item, body.count ?? 1)
        return json({ unlocked, conversation: status(id, e) })
      }
      if (action === 'flags') {
        const body = await readJson(request, flagBody, maxBody)
        const { unlocked } = e.convo.setFlag(body.flag, body.on ?? true)
        return json({ unlocked, conversation: status(id, e) })
      }
      const body = await readJson(request, messageBody, maxBody)
      if ((request.headers.get('accept') ?? '').includes('text/event-stream')) return streamTurn(id, e, body.text)
      const result = await e.convo.say(body.text)
      return json({ ...publicResult(result), conversation: status(id, e) })
    }
    throw new HttpProblem(405, 'method_not_allowed', `${method} is not allowed here`)
  }

  function streamTurn(id: string, e: Entry, text: string): Response {
    const encoder = new TextEncoder()
    const controller = new AbortController()
    const stream = new ReadableStream<Uint8Array>({
      async start(out) {
        const send = (event: string, data: unknown) => out.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`))
        try {
          const turn = e.convo.stream(text, { signal: controller.signal })
          for await (const delta of turn) send('delta', { text: delta })
          send('done', { ...publicResult(await turn.result), conversation: status(id, e) })
        } catch (error) {
          if (!controller.signal.aborted) send('error', problemBody(toProblem(error)))
        } finally {
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
    })
    return new Response(stream, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } })
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
