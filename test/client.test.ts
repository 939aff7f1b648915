/**
 * @parley/client against the real demo server (its own process), with conversations in memory and
 * in Redis: every route through the client, and the retries a game meets (a timeout, a dropped
 * connection, a stream cut mid-reply, a 409, a 503 with Retry-After) each ending in exactly one turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createParleyClient, ParleyError, type StreamEvent } from '@parley/client'
import type { Npc } from '@parley/engine'
import { schemas } from '@parley/engine/http'
import { DemoProcess, TEST_GAME_KEY } from './helpers/demo-process.ts'
import { allNpcs } from './helpers/npcs.ts'
import { REDIS_SERVER, RedisProcess } from './helpers/redis.ts'

/** An NPC with an item to give, chosen from what the content folder declares. */
let npc: Npc
let redis: RedisProcess | undefined
beforeAll(async () => {
  npc = (await allNpcs()).find((n) => Object.keys(n.items).length > 0)!
  if (REDIS_SERVER) redis = await new RedisProcess().start()
}, 30_000)
afterAll(async () => {
  await redis?.dispose()
})

type Attempt = (input: string, init: RequestInit, real: typeof fetch) => Promise<Response>
/** A fetch whose n-th attempt (1-based) at a path ending in `suffix` misbehaves as `plan[n]` says. */
function flaky(suffix: string, plan: Record<number, Attempt>) {
  let n = 0
  const seen: Array<{ key: string | null }> = []
  const f = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = String(input)
    if (!url.endsWith(suffix) || init.method !== 'POST') return fetch(input, init)
    n++
    seen.push({ key: new Headers(init.headers).get('idempotency-key') })
    const step = plan[n]
    return step ? step(url, init, fetch) : fetch(input, init)
  }) as typeof fetch
  return { fetch: f, seen, attempts: () => n }
}
/** The server runs the request; the answer never reaches the client. */
const dropAfterServing: Attempt = async (url, init, real) => {
  const res = await real(url, { ...init, signal: null })
  await res.arrayBuffer()
  throw new TypeError('fetch failed: socket hang up')
}
/** The server runs the request, but answers after the client's deadline. */
const answerLate: Attempt = async (url, init, real) => {
  const res = await real(url, { ...init, signal: null })
  await res.arrayBuffer()
  await new Promise<void>((resolve) => (init.signal!.aborted ? resolve() : init.signal!.addEventListener('abort', () => resolve())))
  throw init.signal!.reason
}
const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code, message: code } }), { status, headers: { 'content-type': 'application/json', ...headers } })

describe.each([
  ['memory', () => ({})],
  ...(REDIS_SERVER ? [['redis', () => ({ REDIS_URL: redis!.url })] as const] : []),
] as const)('the client against the demo server, conversations in %s', (_store, env) => {
  let server: DemoProcess
  const api = () => `${server.url}/api`
  beforeAll(async () => {
    server = await new DemoProcess(env()).ready
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('calls every route as the player and as the game, typed, with the server\'s codes on refusals', async () => {
    const player = createParleyClient({ baseUrl: api() })
    const game = createParleyClient({ baseUrl: api(), gameKey: TEST_GAME_KEY })

    const { npcs } = await player.npcs()
    expect(npcs.map((n) => n.id)).toContain(npc.id)

    const started = await player.start(npc.id)
    expect(started.npc).toBe(npc.id)
    expect(started.greeting).toBe(npc.greeting ?? null)
    const said = await player.say(started.id, 'hello there')
    expect(said.text.length).toBeGreaterThan(0)
    expect(said.conversation.turns).toBe(1)

    const events: StreamEvent[] = []
    const stream = player.stream(started.id, 'tell me more')
    for await (const e of stream) events.push(e)
    const done = events.at(-1)!
    expect(done.type).toBe('done')
    const turn = (done as Extract<StreamEvent, { type: 'done' }>).turn
    expect(events.filter((e) => e.type === 'delta').map((e) => (e as { text: string }).text).join('')).toBe(turn.text)
    expect(turn.conversation.turns).toBe(2)

    const view = await player.view(started.id)
    expect(view.turns).toBe(2)
    expect(view.history.filter((h) => h.role === 'user').map((h) => h.content)).toEqual(['hello there', 'tell me more'])

    const save = await player.save(started.id)
    expect(save.format).toBe('parley.save')
    const restored = await player.restore(npc.id, save)
    expect(restored.id).not.toBe(started.id)
    expect(restored.turns).toBe(2)

    const item = Object.keys(npc.items)[0]!
    const gift = await game.give(started.id, { item, count: 1 })
    expect(gift.conversation.items[item]).toBe(1)
    const flag = Object.keys(npc.flags ?? { met: true })[0]!
    const flagged = await game.flag(started.id, flag)
    expect((flagged.conversation as { flags?: string[] }).flags).toContain(flag)
    const inspected = await game.inspect(started.id)
    expect(inspected.secrets.length).toBe(npc.secrets.length)
    const snapshot = await game.snapshot(started.id)
    expect(snapshot.npc).toBe(npc.id)
    const fromSnapshot = await game.start(npc.id, { save: snapshot })
    expect(fromSnapshot.turns).toBe(2)
    const ended = await game.end(started.id)
    expect(ended.state).toBe('ended')

    const { token } = await game.playerToken('acct-client-test')
    const gameClient = createParleyClient({ baseUrl: api(), playerToken: token })
    const theirs = await gameClient.start(npc.id)
    expect((await game.forPlayer('acct-client-test').view(theirs.id)).id).toBe(theirs.id)

    // What the server sent is what the OpenAPI document says it sends: the same zod schemas.
    for (const [schema, value] of [
      [schemas.npcList, { npcs }], [schemas.created, started], [schemas.turn, said], [schemas.doneEvent, turn], [schemas.conversationView, view],
      [schemas.signedSave, save], [schemas.created, restored], [schemas.changed, gift], [schemas.changed, flagged], [schemas.inspectorView, inspected],
      [schemas.snapshot, snapshot], [schemas.turn, ended], [schemas.created, theirs],
    ] as const) expect(() => (schema as { parse(v: unknown): unknown }).parse(value)).not.toThrow()
    expect(schemas.playerToken.parse(await game.playerToken('acct-client-test'))).toBeTruthy()

    await player.leave(restored.id)
    const gone = await player.view(restored.id).catch((e: unknown) => e)
    expect(gone).toBeInstanceOf(ParleyError)
    expect(gone).toMatchObject({ status: 404, code: 'not_found' })
    await expect(player.give(started.id, { item })).rejects.toMatchObject({ status: 401, code: 'game_key_required' })
    await expect(player.start('no-such-npc')).rejects.toMatchObject({ status: 404, code: 'unknown_npc' })
  })

  it('an AbortSignal stops a call, reported as aborted', async () => {
    const player = createParleyClient({ baseUrl: api() })
    const controller = new AbortController()
    controller.abort()
    await expect(player.npcs({ signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' })
  })

  it.each([
    ['a dropped connection', { 1: dropAfterServing }],
    ['a timeout', { 1: answerLate }],
    ['a 409 conflict after the server ran the turn', { 1: async (url: string, init: RequestInit, real: typeof fetch) => ((await (await real(url, { ...init, signal: null })).arrayBuffer()), problem(409, 'conflict')) }],
    ['a 503 with Retry-After', { 1: async () => problem(503, 'store_unavailable', { 'retry-after': '1' }) }],
  ] as const)('a line retried after %s is one turn', async (_what, plan) => {
    const player = createParleyClient({ baseUrl: api() })
    const { id } = await player.start(npc.id)
    const net = flaky('/messages', plan as Record<number, Attempt>)
    expect((await player.say(id, 'warm up')).conversation.turns).toBe(1)
    const started = Date.now()
    // the same player: the id the server issued, carried as a header
    const asSame = createParleyClient({ baseUrl: api(), fetch: net.fetch, timeoutMs: 2_000, retry: { baseDelayMs: 10 }, playerToken: await tokenOf(player) })
    const answer = await asSame.say(id, 'where is the boss?')
    expect(net.attempts()).toBe(2)
    expect(new Set(net.seen.map((s) => s.key)).size).toBe(1)
    expect(answer.conversation.turns).toBe(2)
    expect((await player.view(id)).turns).toBe(2)
    // Retry-After: 1 was honoured (a lower bound only: a slow machine may take longer)
    if (_what.includes('503')) expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })

  it('a stream cut mid-reply is fetched again with the same key: one turn, and the text shown once', async () => {
    const player = createParleyClient({ baseUrl: api() })
    const { id } = await player.start(npc.id)
    const net = flaky('/messages', {
      1: async (url, init, real) => {
        const res = await real(url, { ...init, signal: null })
        const reader = res.body!.getReader()
        const first = await reader.read()
        // the server finishes the turn; the client sees only the first chunk, then the connection dies
        void (async () => {
          while (!(await reader.read()).done);
        })()
        return new Response(new ReadableStream({ start: (c) => (c.enqueue(first.value!), c.error(new TypeError('terminated'))) }), { headers: res.headers })
      },
    })
    const client = createParleyClient({ baseUrl: api(), fetch: net.fetch, retry: { baseDelayMs: 10 }, playerToken: await tokenOf(player) })
    let shown = ''
    let final = ''
    for await (const e of client.stream(id, 'what do you know?')) {
      if (e.type === 'restart') shown = ''
      if (e.type === 'delta') shown += e.text
      if (e.type === 'done') final = e.turn.text
    }
    expect(net.attempts()).toBe(2)
    expect(shown).toBe(final)
    expect((await player.view(id)).turns).toBe(1)
  })

  it.each([
    ['starting', undefined],
    ['restoring', 'save'],
  ] as const)('%s retried after a dropped connection makes one conversation', async (_what, withSave) => {
    const player = createParleyClient({ baseUrl: api() })
    const base = await player.start(npc.id)
    await player.say(base.id, 'hello')
    const save = withSave ? await player.save(base.id) : undefined
    let firstId = ''
    const net = flaky('/conversations', {
      1: async (url, init, real) => {
        firstId = ((await (await real(url, { ...init, signal: null })).json()) as { id: string }).id
        throw new TypeError('fetch failed')
      },
    })
    const client = createParleyClient({ baseUrl: api(), fetch: net.fetch, retry: { baseDelayMs: 10 }, playerToken: await tokenOf(player) })
    const created = await client.start(npc.id, { save })
    expect(net.attempts()).toBe(2)
    expect(created.id).toBe(firstId)
    expect(created.turns).toBe(withSave ? 1 : 0)
    // a new key is a new conversation
    expect((await client.start(npc.id, { save })).id).not.toBe(firstId)
  })
})

/** The player id a Node client keeps from the server's cookie, to act as the same player from a second client. */
async function tokenOf(client: ReturnType<typeof createParleyClient>): Promise<string> {
  if (!client.identity()) await client.npcs()
  return client.identity()!
}
