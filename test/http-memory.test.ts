import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { glmProvider, MemoryConversationStore, parseNpc, scriptedProvider, type ConversationStore, type Provider } from '@parley/engine'
import { createDialogueHandler, KeyRing, type DialogueHandlerOptions } from '@parley/engine/http'
import { RedisConversationStore } from '@parley/engine/redis'
import { createParleyClient } from '@parley/client'
import { useEmulator } from './helpers/emulator.ts'
import { ROOT } from './helpers/npcs.ts'
import { REDIS_SERVER, useRedis } from './helpers/redis.ts'
import type { RecordedRequest } from './glm-emulator/emulator.ts'
import { httpCaller, type Handler } from './helpers/http-caller.ts'

const GAME_KEY = 'game-key.http-memory-test-0123456789abcdef'
const path = `${ROOT}test/fixtures/memory/archivist.yaml`
const archivist = () => parseNpc(readFileSync(path, 'utf8'), path)
const MEMORY_LABEL = '【你对这个玩家的记忆（来自你们以前的谈话）】'
const emulator = useEmulator()


const caller = (handler: Handler, as: { game?: boolean; player?: string; cookie?: string } = {}) => httpCaller(handler, GAME_KEY, as)

function server(options: Partial<DialogueHandlerOptions> & { provider?: Provider } = {}) {
  return createDialogueHandler({ npcs: [archivist()], provider: scriptedProvider(), gameKeys: [GAME_KEY], memory: true, ...options })
}

/** One conversation: start, say the lines, end with the exit phrase. */
async function talk(player: ReturnType<typeof caller>, lines: string[]) {
  const started = await player('POST', '/conversations', { npc: 'archivist' })
  expect(started.status).toBe(201)
  for (const text of lines) expect((await player('POST', `/conversations/${started.body.id}/messages`, { text })).status).toBe(200)
  return started.body as { id: string; returning: boolean }
}

const isTurn = (r: RecordedRequest) => String(r.body.messages[0].content).startsWith('你是旧城档案馆')

describe('memory over HTTP', () => {
  it('a memory written at the end is in the same player’s next request to the same NPC, and in no other player’s (recorded traffic)', async () => {
    const emu = emulator()
    const handler = server({ provider: glmProvider({ apiKey: emu.apiKey, baseUrl: emu.url }) })
    const a = caller(handler)
    const b = caller(handler)
    const first = await talk(a, ['我叫林小雨，在找我父亲的档案'])
    expect(first.returning).toBe(false)
    const bye = await a('POST', `/conversations/${first.id}/messages`, { text: '再见' })
    expect(bye.body.kind).toBe('farewell')
    await handler.settled()
    const summaries = emu.chatRequests.filter((r) => !isTurn(r))
    expect(summaries).toHaveLength(1)
    expect(summaries[0]!.raw).toContain('这次和玩家的谈话结束了')

    const again = await talk(a, ['还记得我吗'])
    expect(again.returning).toBe(true)
    const stranger = await talk(b, ['你好'])
    expect(stranger.returning).toBe(false)

    const turns = emu.chatRequests.filter(isTurn)
    const aNext = turns.at(-2)!
    const bNext = turns.at(-1)!
    expect(aNext.raw).toContain('还记得我吗')
    expect(aNext.body.messages[0].content).toContain(MEMORY_LABEL)
    expect(aNext.body.messages[0].content).toContain('林小雨')
    expect(bNext.raw).toContain('你好')
    expect(bNext.raw).not.toContain('林小雨')
    expect(bNext.raw).not.toContain(MEMORY_LABEL)
    // The player's pseudonym reaches GLM as user_id on the summary too, never the cookie id.
    expect(summaries[0]!.body.user_id).toBe(turns[0]!.body.user_id)
    await handler.close()
  })

  it('the end answers before the summary is back, and the next conversation starts without waiting for it', async () => {
    const emu = emulator()
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    emu.reply = async (r) => {
      if (isTurn(r)) return '嗯。'
      await held
      return '她叫林小雨。'
    }
    const handler = server({ provider: glmProvider({ apiKey: emu.apiKey, baseUrl: emu.url }) })
    const a = caller(handler)
    const first = await talk(a, ['我叫林小雨'])
    const ended = await a('POST', `/conversations/${first.id}/messages`, { text: '再见' })
    expect(ended.body.kind).toBe('farewell')
    const meanwhile = await talk(a, ['在吗'])
    expect(meanwhile.returning).toBe(false)
    release()
    await handler.settled()
    expect((await talk(a, ['又来了'])).returning).toBe(true)
    expect(emu.chatRequests.filter(isTurn).at(-1)!.body.messages[0].content).toContain('她叫林小雨。')
    await handler.close()
  })

  it('a failed summary costs no turn and loses nothing: it is retried when the player comes back', async () => {
    const emu = emulator()
    const handler = server({ provider: glmProvider({ apiKey: emu.apiKey, baseUrl: emu.url }), memory: { limits: { retryDelayMs: 0 } } })
    const a = caller(handler)
    const first = await talk(a, ['我叫林小雨'])
    emu.fault({ status: 400, code: '1210', message: 'bad' })
    await a('POST', `/conversations/${first.id}/messages`, { text: '再见' })
    await handler.settled()
    expect((await a('GET', '/memory/archivist')).body).toMatchObject({ memories: [], pending: 1, conversations: 1 })
    const next = await talk(a, ['在吗'])
    expect(next.returning).toBe(false)
    await handler.settled()
    const record = (await a('GET', '/memory/archivist')).body
    expect(record).toMatchObject({ pending: 0, memories: [{ carried: true, by: 'model', text: expect.stringContaining('林小雨') }] })
    expect((await talk(a, ['又来了'])).returning).toBe(true)
    await handler.close()
  })

  it('a conversation left idle is remembered by the server that held it when it lets it go', async () => {
    let clock = 1_000_000
    const handler = server({ now: () => clock, idleMs: 60_000, sweepEveryMs: 10 })
    const a = caller(handler)
    await talk(a, ['我叫林小雨'])
    clock += 120_000
    const deadline = Date.now() + 5000
    while ((await a('GET', '/memory/archivist')).body.memories.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
      await handler.settled()
    }
    expect((await a('GET', '/memory/archivist')).body.memories).toEqual([expect.objectContaining({ text: expect.stringContaining('林小雨') })])
    await handler.close()
  })

  it('a server that closes writes the memories of the conversations it still holds', async () => {
    const store = new MemoryConversationStore({ sweepEveryMs: 0 })
    const ring = KeyRing.parse('k1:0123456789abcdef0123456789abcdef')
    const before = server({ store, signingKeys: ring })
    const a = caller(before)
    await talk(a, ['我叫林小雨'])
    await before.close()
    const after = server({ store, signingKeys: ring })
    expect((await talk(caller(after, { cookie: a.cookie() }), [])).returning).toBe(true)
    await after.close()
  })

  it('the player’s new game clears only their own record; the game forgets any player it names', async () => {
    const handler = server()
    const a = caller(handler)
    const b = caller(handler)
    for (const [p, line] of [[a, '我是甲'], [b, '我是乙']] as const) {
      const c = await talk(p, [line])
      await p('POST', `/conversations/${c.id}/messages`, { text: '再见' })
    }
    await handler.settled()
    expect((await a('GET', '/memory/archivist')).body.conversations).toBe(1)

    const cleared = await a('POST', '/memory/new-game', {})
    expect(cleared).toMatchObject({ status: 200, body: { cleared: ['archivist'] } })
    expect((await a('GET', '/memory/archivist')).body).toMatchObject({ conversations: 0, memories: [] })
    expect((await b('GET', '/memory/archivist')).body.conversations).toBe(1)
    expect((await talk(b, ['在吗'])).returning).toBe(true)

    // The game, for a player it names by account id.
    const acct = caller(handler, { game: true, player: 'acct-42' })
    const c = await talk(acct, ['我是四十二号'])
    await acct('POST', `/conversations/${c.id}/end`, {})
    await handler.settled()
    expect((await acct('GET', '/memory/archivist')).body.memories).toHaveLength(1)
    expect((await acct('DELETE', '/memory')).body).toEqual({ deleted: 1 })
    expect((await acct('GET', '/memory/archivist')).body).toMatchObject({ conversations: 0, memories: [] })
    expect((await acct('DELETE', '/memory/archivist')).body).toEqual({ deleted: 0 })
    await handler.close()
  })

  it('no player can read or clear another player’s memory: identities come only from signed tokens', async () => {
    const handler = server()
    const a = caller(handler)
    const first = await talk(a, ['我叫林小雨'])
    await a('POST', `/conversations/${first.id}/messages`, { text: '再见' })
    await handler.settled()

    // A forged or edited cookie is a new anonymous player, who has no memory.
    const forged = caller(handler, { cookie: a.cookie().replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) })
    expect((await forged('GET', '/memory/archivist')).body).toMatchObject({ conversations: 0, memories: [] })
    // Naming a player is the game's alone.
    const naming = caller(handler)
    expect((await naming('GET', '/memory/archivist', undefined, { 'x-parley-player': 'whoever' })).status).toBe(401)
    // Bodies name no player; a body that tries is refused whole.
    const intruder = caller(handler)
    expect((await intruder('POST', '/memory/new-game', { npc: 'archivist', player: a.cookie() })).body.error.code).toBe('invalid_body')
    expect((await intruder('POST', '/memory/new-game', {})).status).toBe(200)
    // The game's delete is the game's.
    expect((await intruder('DELETE', '/memory')).status).toBe(401)
    expect((await intruder('DELETE', '/memory/archivist')).status).toBe(401)
    // Unknown and hostile NPC ids.
    for (const npc of ['__proto__', 'constructor', 'nobody']) expect((await intruder('GET', `/memory/${npc}`)).body.error.code).toBe('unknown_npc')
    // The game must say whose memory it means.
    const game = caller(handler, { game: true })
    expect((await game('GET', '/memory/archivist')).body.error.code).toBe('invalid_player')
    expect((await game('DELETE', '/memory')).body.error.code).toBe('invalid_player')

    expect((await a('GET', '/memory/archivist')).body).toMatchObject({ conversations: 1, memories: [expect.objectContaining({ text: expect.stringContaining('林小雨') })] })
    await handler.close()
  })

  it('a player reads a memory written past a lock that is closed for them now only masked; the game reads it', async () => {
    const store = new MemoryConversationStore({ sweepEveryMs: 0 })
    const handler = server({ store })
    const acct = caller(handler, { game: true, player: 'acct-7' })
    const c = await talk(acct, [])
    await acct('POST', `/conversations/${c.id}/items`, { item: 'seal' })
    await acct('POST', `/conversations/${c.id}/messages`, { text: '密码呢' })
    await acct('POST', `/conversations/${c.id}/end`, {})
    await handler.settled()
    // The game resets the unlock in the record (say, a new chapter); the memory keeps its secret set.
    const key = { player: 'p:acct-7', npc: 'archivist' }
    const stored = (await store.getRecord(key))!
    expect(await store.putRecord(key, { ...(stored.record as object), unlocked: [] }, stored.version)).toBe(true)
    const token = (await acct('POST', '/player-tokens', { player: 'acct-7' })).body.token as string
    const player = caller(handler)
    const seen = await player('GET', '/memory/archivist', undefined, { 'x-parley-client': token })
    expect(seen.body.memories).toEqual([expect.objectContaining({ text: '•••', secrets: ['vault_code'], carried: false })])
    expect(JSON.stringify(seen.body)).not.toContain('密码呢')
    expect((await acct('GET', '/memory/archivist')).body.memories[0].text).toContain('密码呢')
    const next = await player('POST', '/conversations', { npc: 'archivist' }, { 'x-parley-client': token })
    expect(next.body.returning).toBe(false)
    expect(JSON.stringify(next.body)).not.toMatch(/密码呢|七四一九/)
    await handler.close()
  })

  it('@parley/client: a player reads its memory and starts a new game; the game reads and forgets a player it names', async () => {
    const handler = server()
    const fetch = ((input: string, init?: RequestInit) => handler(new Request(input, init))) as typeof globalThis.fetch
    const baseUrl = 'http://demo.test/api'
    const player = createParleyClient({ baseUrl, fetch })
    const c = await player.start('archivist')
    await player.say(c.id, '我叫林小雨')
    expect((await player.say(c.id, '再见')).kind).toBe('farewell')
    await handler.settled()
    expect((await player.memory('archivist')).memories[0]!.text).toContain('林小雨')
    expect(await player.newGame()).toEqual({ cleared: ['archivist'] })
    expect((await player.memory('archivist')).conversations).toBe(0)
    await expect(player.forget()).rejects.toMatchObject({ status: 401, code: 'game_key_required' })

    const game = createParleyClient({ baseUrl, gameKey: GAME_KEY, fetch }).forPlayer('acct-9')
    const g = await game.start('archivist')
    await game.say(g.id, '我是九号')
    await game.end(g.id)
    await handler.settled()
    expect((await game.memory('archivist')).conversations).toBe(1)
    expect(await game.forget('archivist')).toEqual({ deleted: 1 })
    expect(await game.forget()).toEqual({ deleted: 0 })
    await handler.close()
  })

  it('a server without memory answers the memory routes with memory_off, and a store without records is refused at start', async () => {
    const handler = server({ memory: false })
    const a = caller(handler)
    expect((await a('GET', '/memory/archivist')).body.error.code).toBe('memory_off')
    await handler.close()
    const memory = new MemoryConversationStore({ sweepEveryMs: 0 })
    const bare: ConversationStore = { get: (id) => memory.get(id), head: (id) => memory.head(id), put: (id, r, v) => memory.put(id, r, v), delete: (id) => memory.delete(id), touch: (id) => memory.touch(id) }
    expect(() => server({ store: bare })).toThrow(/keeps no memory records/)
  })
})

describe.skipIf(!REDIS_SERVER)('memory in Redis', () => {
  const redisServer = useRedis()

  it('is kept across a restart of the server and of Redis', async () => {
    const ring = KeyRing.parse('k1:0123456789abcdef0123456789abcdef')
    const prefix = `m${Math.random()}:`
    let store = new RedisConversationStore({ url: redisServer().url, prefix })
    let handler = server({ store, signingKeys: ring })
    const a = caller(handler)
    const first = await talk(a, ['我叫林小雨'])
    await a('POST', `/conversations/${first.id}/messages`, { text: '再见' })
    await handler.close()
    await store.close()
    await redisServer().restart()

    store = new RedisConversationStore({ url: redisServer().url, prefix })
    handler = server({ store, signingKeys: ring })
    const again = caller(handler, { cookie: a.cookie() })
    expect((await again('GET', '/memory/archivist')).body).toMatchObject({ conversations: 1, memories: [expect.objectContaining({ text: expect.stringContaining('林小雨') })] })
    const next = await talk(again, [])
    expect(next.returning).toBe(true)
    const view = (await again('GET', `/conversations/${next.id}`)).body
    expect(view.explain?.memories ?? [{ carried: true }]).toEqual([expect.objectContaining({ carried: true })])
    // Another player on the same Redis has none of it; the game forgets the first, and it stays forgotten.
    expect((await caller(handler)('GET', '/memory/archivist')).body.conversations).toBe(0)
    await handler.close()
    await store.close()
  })

  it('keeps records per player in the Redis store with compare-and-set, and deletes one player’s without touching another’s', async () => {
    const store = new RedisConversationStore({ url: redisServer().url, prefix: `r${Math.random()}:` })
    const key = { player: 'c:a/b:c', npc: 'archivist' }
    expect(await store.putRecord(key, { n: 1 }, 0)).toBe(true)
    expect(await store.putRecord(key, { n: 2 }, 0)).toBe(false)
    expect(await store.putRecord(key, { n: 2 }, 1)).toBe(true)
    expect(await store.getRecord(key)).toEqual({ record: { n: 2 }, version: 2 })
    await store.putRecord({ player: 'c:a/b:c', npc: 'other' }, { n: 1 }, 0)
    // A player whose id extends another's with the separator is someone else.
    await store.putRecord({ player: 'c:a', npc: 'b:c/archivist' }, { n: 9 }, 0)
    expect(await store.deleteRecords('c:a/b:c', 'other')).toBe(1)
    expect(await store.deleteRecords('c:a/b:c')).toBe(1)
    expect(await store.getRecord(key)).toBeUndefined()
    expect(await store.getRecord({ player: 'c:a', npc: 'b:c/archivist' })).toEqual({ record: { n: 9 }, version: 1 })
    await store.close()
  })
})
