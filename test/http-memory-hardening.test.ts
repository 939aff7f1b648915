/**
 * Memory over HTTP against a player who tries to get around it: deleting a conversation to
 * escape a penalty, reusing an Idempotency-Key, restoring a save from before "new game", and
 * growing the store with records nobody can come back for. Ported from the red team's
 * reproductions (findings 4, 5, 6 and 9).
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryConversationStore, parseNpc, scriptedProvider, type ConversationStore } from '@parley/engine'
import { createDialogueHandler, type DialogueHandlerOptions } from '@parley/engine/http'
import { RedisConversationStore } from '@parley/engine/redis'
import { createClient } from 'redis'
import { ROOT } from './helpers/npcs.ts'
import { REDIS_SERVER, useRedis } from './helpers/redis.ts'
import { httpCaller, type Handler } from './helpers/http-caller.ts'

const GAME_KEY = 'game-key.http-memory-hardening-0123456789abcdef'
const path = `${ROOT}test/fixtures/memory/archivist.yaml`
const archivist = () => parseNpc(readFileSync(path, 'utf8'), path)
const YEAR_MS = 365 * 86_400_000

const caller = (handler: Handler, as: { game?: boolean; player?: string; cookie?: string } = {}) => httpCaller(handler, GAME_KEY, as)

function server(options: Partial<DialogueHandlerOptions> = {}) {
  return createDialogueHandler({ npcs: [archivist()], provider: scriptedProvider(), gameKeys: [GAME_KEY], memory: true, ratePerMinute: 100_000, addressRatePerMinute: 100_000, createPerMinute: 100_000, addressCreatePerMinute: 100_000, ...options })
}

async function start(p: ReturnType<typeof caller>, body: object = { npc: 'archivist' }, headers: Record<string, string> = {}) {
  const r = await p('POST', '/conversations', body, headers)
  expect(r.status).toBe(201)
  return r.body.id as string
}

/** A store that counts the records written into it. */
class CountingStore extends MemoryConversationStore {
  written: string[] = []
  override async putRecord(key: { player: string; npc: string }, record: unknown, expected: number) {
    this.written.push(key.player)
    return super.putRecord(key, record, expected)
  }
}

const CARRIES_START = await snapshotsCarryStart()

describe('memory over HTTP, against a player working around it', () => {
  it('deleting a conversation still records the trust the game took away', async () => {
    const handler = server()
    const a = caller(handler)
    const first = await start(a)
    const asGame = caller(handler, { game: true, cookie: a.cookie() })
    await asGame('POST', `/conversations/${first}/vars`, { name: 'trust', value: 8 })
    await a('POST', `/conversations/${first}/messages`, { text: '再见' })
    await handler.settled()
    expect((await asGame('GET', '/memory/archivist')).body.vars).toEqual({ trust: 8 })

    const second = await start(a)
    await a('POST', `/conversations/${second}/messages`, { text: '我要烧了你的档案馆' })
    expect((await asGame('POST', `/conversations/${second}/vars`, { name: 'trust', value: 0 })).status).toBe(200)
    expect((await a('DELETE', `/conversations/${second}`)).status).toBeLessThan(300)
    await handler.settled()
    const record = (await asGame('GET', '/memory/archivist')).body
    expect(record.vars).toEqual({ trust: 0 })
    // What was said is remembered too (the first visit said nothing but goodbye): deleting is an
    // ending, not a way to be forgotten (that is the game's DELETE /memory).
    expect(record.conversations).toBe(1)
    expect(record.memories).toHaveLength(1)
    expect((await a('GET', `/conversations/${second}`)).status).toBe(404)
    await handler.close()
  })

  it("the game's delete discards a conversation without taking it into the record", async () => {
    const handler = server()
    const a = caller(handler)
    const id = await start(a)
    const g = caller(handler, { game: true, cookie: a.cookie() })
    await g('POST', `/conversations/${id}/vars`, { name: 'trust', value: 8 })
    await a('POST', `/conversations/${id}/messages`, { text: '我叫林小雨' })
    expect((await g('DELETE', `/conversations/${id}`)).status).toBeLessThan(300)
    await handler.settled()
    expect((await g('GET', '/memory/archivist')).body).toMatchObject({ conversations: 0, vars: {}, unlocked: [] })
    await handler.close()
  })

  it('a conversation deleted after it ended is remembered once, not twice', async () => {
    const handler = server()
    const a = caller(handler)
    const id = await start(a)
    await a('POST', `/conversations/${id}/messages`, { text: '我叫林小雨' })
    await a('POST', `/conversations/${id}/messages`, { text: '再见' })
    await handler.settled()
    expect((await a('DELETE', `/conversations/${id}`)).status).toBeLessThan(300)
    await handler.settled()
    const record = (await a('GET', '/memory/archivist')).body
    expect(record.conversations).toBe(1)
    expect(record.memories).toHaveLength(1)
    await handler.close()
  })

  it('reusing an Idempotency-Key after a delete starts a conversation the record takes as a new one (its penalty counts)', async () => {
    const handler = server()
    const a = caller(handler)
    const create = () => start(a, { npc: 'archivist' }, { 'idempotency-key': 'same-key-1' })
    const first = await create()
    const game = caller(handler, { game: true, cookie: a.cookie() })
    await game('POST', `/conversations/${first}/vars`, { name: 'trust', value: 8 })
    for (const text of ['一', '二', '三', '四', '再见']) await a('POST', `/conversations/${first}/messages`, { text })
    await handler.settled()
    expect((await game('GET', '/memory/archivist')).body.vars).toEqual({ trust: 8 })
    expect((await a('DELETE', `/conversations/${first}`)).status).toBeLessThan(300)
    const second = await create()
    // The same id (derived from the player and the key) at version 1 again: only its run tells it apart.
    expect(second).toBe(first)
    expect((await game('POST', `/conversations/${second}/vars`, { name: 'trust', value: 0 })).status).toBe(200)
    await a('POST', `/conversations/${second}/messages`, { text: '我又来了' })
    await a('POST', `/conversations/${second}/messages`, { text: '再见' })
    await handler.settled()
    const record = (await game('GET', '/memory/archivist')).body
    expect(record.vars).toEqual({ trust: 0 })
    // Two conversations, two memories: the second did not replace the first's as "the same one".
    expect(record.conversations).toBe(2)
    expect(record.memories).toHaveLength(2)
    await handler.close()
  })

  it('a save taken before "new game" and restored after it does not put the old unlocks back into the record', async () => {
    let clock = 1_000_000
    const handler = server({ now: () => clock })
    const a = caller(handler)
    const id = await start(a)
    const game = caller(handler, { game: true, cookie: a.cookie() })
    expect((await game('POST', `/conversations/${id}/items`, { item: 'seal' })).body.unlocked).toEqual(['vault_code'])
    const save = (await a('GET', `/conversations/${id}/save`)).body
    await a('POST', `/conversations/${id}/messages`, { text: '再见' })
    await handler.settled()
    expect((await a('GET', '/memory/archivist')).body.unlocked).toEqual(['vault_code'])
    clock += 60_000
    expect((await a('POST', '/memory/new-game', {})).status).toBe(200)
    expect((await a('GET', '/memory/archivist')).body.unlocked).toEqual([])

    clock += 60_000
    const restored = await start(a, { npc: 'archivist', save })
    await a('POST', `/conversations/${restored}/messages`, { text: '再见' })
    await handler.settled()
    expect((await a('GET', '/memory/archivist')).body).toMatchObject({ unlocked: [], conversations: 0 })
    const fresh = await start(a)
    expect((await game('GET', `/conversations/${fresh}/inspect`)).body.unlocked).toEqual([])
    await handler.close()
  })

  it('a save restored without a "new game" in between is still remembered', async () => {
    const handler = server()
    const a = caller(handler)
    const id = await start(a)
    const save = (await a('GET', `/conversations/${id}/save`)).body
    await a('POST', `/conversations/${id}/messages`, { text: '我叫林小雨' })
    await a('POST', `/conversations/${id}/messages`, { text: '再见' })
    const restored = await start(a, { npc: 'archivist', save })
    await a('POST', `/conversations/${restored}/messages`, { text: '我又来了' })
    await a('POST', `/conversations/${restored}/messages`, { text: '再见' })
    await handler.settled()
    expect((await a('GET', '/memory/archivist')).body.conversations).toBe(2)
    await handler.close()
  })

  // Runs once snapshots carry their conversation's start (`started_at`, the engine side of finding 4);
  // until then a restored save counts as older than any new game, and this test is skipped.
  it.skipIf(!CARRIES_START)('a save taken after "new game" and restored later is remembered', async () => {
    let clock = 1_000_000
    const handler = server({ now: () => clock })
    const a = caller(handler)
    expect((await a('POST', '/memory/new-game', {})).status).toBe(200)
    const game = caller(handler, { game: true, cookie: a.cookie() })
    clock += 60_000
    const id = await start(a)
    await a('POST', `/conversations/${id}/messages`, { text: '我叫林小雨' })
    const save = (await a('GET', `/conversations/${id}/save`)).body
    expect((await game('DELETE', `/conversations/${id}`)).status).toBeLessThan(300)
    clock += 60_000
    const restored = await start(a, { npc: 'archivist', save })
    await a('POST', `/conversations/${restored}/messages`, { text: '我又来了' })
    await a('POST', `/conversations/${restored}/messages`, { text: '再见' })
    await handler.settled()
    expect((await game('GET', '/memory/archivist')).body.conversations).toBe(1)
    await handler.close()
  })

  it('"new game" from callers with no record writes no records', async () => {
    const store = new CountingStore({ sweepEveryMs: 0 })
    const handler = server({ store })
    for (let i = 0; i < 20; i++) {
      const r = await caller(handler)('POST', '/memory/new-game', {})
      expect(r.status).toBe(200)
      expect(r.body.cleared).toEqual(['archivist'])
    }
    expect(store.written).toEqual([])
    await handler.close()
    await store.close()
  })

  it('"new game" from a player with a record still clears it, and a conversation open before it is not remembered', async () => {
    let clock = 1_000_000
    const handler = server({ now: () => clock })
    const a = caller(handler)
    const first = await start(a)
    const game = caller(handler, { game: true, cookie: a.cookie() })
    await game('POST', `/conversations/${first}/items`, { item: 'seal' })
    await a('POST', `/conversations/${first}/messages`, { text: '再见' })
    await handler.settled()
    const open = await start(a)
    await game('POST', `/conversations/${open}/vars`, { name: 'trust', value: 8 })
    clock += 1000
    expect((await a('POST', '/memory/new-game', {})).status).toBe(200)
    await a('POST', `/conversations/${open}/messages`, { text: '再见' })
    await handler.settled()
    expect((await game('GET', '/memory/archivist')).body).toMatchObject({ unlocked: [], vars: {}, conversations: 0 })
    await handler.close()
  })

  it("the game's new game marks the player's NPCs even where no record exists yet (a conversation open before it stays unremembered)", async () => {
    let clock = 1_000_000
    const handler = server({ now: () => clock })
    const game = caller(handler, { game: true, player: 'acct-7' })
    const open = await start(game)
    await game('POST', `/conversations/${open}/items`, { item: 'seal' })
    clock += 1000
    expect((await game('POST', '/memory/new-game', {})).status).toBe(200)
    await game('POST', `/conversations/${open}/end`, {})
    await handler.settled()
    expect((await game('GET', '/memory/archivist')).body).toMatchObject({ unlocked: [], conversations: 0 })
    await handler.close()
  })
})

describe("an anonymous browser's records live as long as its cookie", () => {
  it('in the in-memory store: gone a cookie lifetime after their last write; a game player’s stay', async () => {
    let clock = 1_000_000
    const store = new MemoryConversationStore({ now: () => clock, sweepEveryMs: 0 })
    const anon = { player: 'c:' + 'a'.repeat(32), npc: 'archivist' }
    const account = { player: 'p:acct-1', npc: 'archivist' }
    expect(await store.putRecord(anon, { n: 1 }, 0)).toBe(true)
    expect(await store.putRecord(account, { n: 1 }, 0)).toBe(true)
    clock += YEAR_MS - 1000
    // A write renews it: the cookie presented for it is at most as old as the write.
    expect(await store.putRecord(anon, { n: 2 }, 1)).toBe(true)
    clock += YEAR_MS - 1000
    expect((await store.getRecord(anon))?.record).toEqual({ n: 2 })
    clock += 2000
    expect(await store.getRecord(anon)).toBeUndefined()
    // Gone means gone for compare-and-set too: a new record starts at version 0.
    expect(await store.putRecord(anon, { n: 3 }, 2)).toBe(false)
    expect((await store.getRecord(account))?.record).toEqual({ n: 1 })
    await store.close()
  })

  it('in the in-memory store: the sweep drops expired records nobody reads again', async () => {
    let clock = 1_000_000
    const store = new MemoryConversationStore({ now: () => clock, sweepEveryMs: 0, recordTtlMs: () => 10 })
    for (let i = 0; i < 5; i++) await store.putRecord({ player: `c:${i}`, npc: 'archivist' }, {}, 0)
    clock += 11
    store.sweep()
    expect(await store.deleteRecords('c:0')).toBe(0)
    await store.close()
  })

  it('through the handler: new-game and conversations of a browser write records that expire; a game account’s do not', async () => {
    let clock = 1_000_000
    const store = new MemoryConversationStore({ now: () => clock, sweepEveryMs: 0 })
    const handler = server({ store, now: () => clock })
    const a = caller(handler)
    const id = await start(a)
    await a('POST', `/conversations/${id}/messages`, { text: '我叫林小雨' })
    await a('POST', `/conversations/${id}/messages`, { text: '再见' })
    const g = caller(handler, { game: true, player: 'acct-9' })
    const gid = await start(g)
    await g('POST', `/conversations/${gid}/messages`, { text: '我叫林小雨' })
    await g('POST', `/conversations/${gid}/messages`, { text: '再见' })
    await handler.settled()
    expect((await a('GET', '/memory/archivist')).body.conversations).toBe(1)
    clock += YEAR_MS + 1
    expect((await g('GET', '/memory/archivist')).body.conversations).toBe(1)
    // Its cookie has expired by now, and the record with it.
    expect(anonId(a)).toMatch(/^c:[0-9a-f]{32}$/)
    expect(await store.getRecord({ player: anonId(a), npc: 'archivist' })).toBeUndefined()
    await handler.close()
    await store.close()
  })
})

/** Whether a conversation's save says when it started (the snapshot's `started_at`). */
async function snapshotsCarryStart(): Promise<boolean> {
  const handler = server()
  const a = caller(handler)
  const id = await start(a)
  const save = (await a('GET', `/conversations/${id}/save`)).body as { data: string }
  await handler.close()
  return (JSON.parse(save.data) as { started_at?: unknown }).started_at !== undefined
}

/** The anonymous id a browser's cookie names: the token's first part, base64url. */
function anonId(a: ReturnType<typeof caller>): string {
  const token = a.cookie().split('=')[1]!
  return Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')
}

describe.skipIf(!REDIS_SERVER)("an anonymous browser's records in Redis", () => {
  const redisServer = useRedis()

  it('expire a cookie lifetime after their last write, index included; a game player’s never do', async () => {
    const prefix = `t${Math.random()}:`
    const store: ConversationStore = new RedisConversationStore({ url: redisServer().url, prefix })
    const client = createClient({ url: redisServer().url })
    await client.connect()
    try {
      const anon = { player: 'c:' + 'b'.repeat(32), npc: 'archivist' }
      const account = { player: 'p:acct-1', npc: 'archivist' }
      expect(await store.putRecord!(anon, { n: 1 }, 0)).toBe(true)
      expect(await store.putRecord!(account, { n: 1 }, 0)).toBe(true)
      const recordKey = (p: string) => `${prefix}record:${encodeURIComponent(p)}/archivist`
      const indexKey = (p: string) => `${prefix}record:${encodeURIComponent(p)}`
      for (const key of [recordKey(anon.player), indexKey(anon.player)]) {
        const ttl = await client.pTTL(key)
        expect(ttl).toBeGreaterThan(YEAR_MS - 60_000)
        expect(ttl).toBeLessThanOrEqual(YEAR_MS)
      }
      expect(await client.pTTL(recordKey(account.player))).toBe(-1)
      expect(await client.pTTL(indexKey(account.player))).toBe(-1)

      const short = new RedisConversationStore({ url: redisServer().url, prefix: `${prefix}short:`, recordTtlMs: () => 200 })
      expect(await short.putRecord(anon, { n: 1 }, 0)).toBe(true)
      await expect.poll(async () => short.getRecord(anon), { timeout: 5000, interval: 100 }).toBeUndefined()
      await short.close()
    } finally {
      await client.quit()
      await store.close?.()
    }
  })
})
