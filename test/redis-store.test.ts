import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryConversationStore, type ConversationSnapshot, type ConversationStore } from '@parley/engine'
import { RedisConversationStore } from '@parley/engine/redis'
import { startGlmEmulator, type GlmEmulator } from './glm-emulator/emulator.ts'
import { REDIS_SERVER, RedisProcess } from './helpers/redis.ts'
import { DemoProcess, player } from './helpers/demo-process.ts'
import { IN_CI } from './e2e/browser.ts'

if (IN_CI && !REDIS_SERVER) {
  describe('redis', () => {
    it('has redis-server to run against', () => {
      throw new Error('redis-server is missing in CI: .ci/run must install it (scripts/ensure-system.mjs)')
    })
  })
}

const snapshot: ConversationSnapshot = { format: 'parley.conversation', version: 1, npc: 'informant', state: 'awaiting', history: [], items: {}, flags: [], unlocked: [], said: [], fresh: [], turns: 0, failures: 0 }
const record = (owner = 'a') => ({ snapshot: { ...snapshot }, owner, answers: {} })

describe.skipIf(!REDIS_SERVER)('conversations in Redis', () => {
  let redis: RedisProcess
  let emu: GlmEmulator
  beforeAll(async () => {
    redis = await new RedisProcess().start()
    emu = await startGlmEmulator()
  }, 30_000)
  afterAll(async () => {
    await redis?.dispose()
    await emu?.close()
  })

  describe.each([
    ['memory', () => new MemoryConversationStore({ ttlMs: 300 })],
    ['redis', () => new RedisConversationStore({ url: redis.url, ttlMs: 300, prefix: `t${Math.random()}:` })],
  ] as const)('the %s store', (_name, make) => {
    it('compare-and-set: only the writer holding the current version wins', async () => {
      const store: ConversationStore = make()
      try {
        expect(await store.put('c1', record(), 0)).toBe(true)
        expect(await store.put('c1', record(), 0)).toBe(false)
        expect((await store.get('c1'))!.version).toBe(1)
        const [a, b] = await Promise.all([store.put('c1', record('x'), 1), store.put('c1', record('y'), 1)])
        expect([a, b].sort()).toEqual([false, true])
        expect((await store.get('c1'))!).toMatchObject({ version: 2, owner: a ? 'x' : 'y' })
        await store.delete('c1')
        expect(await store.get('c1')).toBeUndefined()
      } finally {
        await store.close?.()
      }
    })

    it('idle conversations expire after the TTL; a touch keeps them', async () => {
      const store: ConversationStore = make()
      try {
        await store.put('old', record(), 0)
        await store.put('kept', record(), 0)
        for (let i = 0; i < 4; i++) {
          await new Promise((r) => setTimeout(r, 120))
          await store.touch('kept')
        }
        expect(await store.get('old')).toBeUndefined()
        expect(await store.get('kept')).toBeDefined()
      } finally {
        await store.close?.()
      }
    })
  })

  it('two servers on one Redis serve one conversation: turns alternate between them, history in order', async () => {
    const env = { REDIS_URL: redis.url }
    const [a, b] = await Promise.all([new DemoProcess(env).ready, new DemoProcess(env).ready])
    try {
      const call = player()
      const { json: created } = await call(a, 'POST', '/conversations', { npc: 'informant' })
      const lines = ['你好，我在找山贼透子', '他在哪？', '多少钱？', '好吧', '还有别的吗？', '谢了']
      for (const [i, line] of lines.entries()) {
        const r = await call(i % 2 === 0 ? a : b, 'POST', `/conversations/${created.id}/messages`, { text: line })
        expect(r.status).toBe(200)
        // The page asks the game (the demo server) to hand the gold over; the other server answers.
        if (i === 1) expect((await call(b, 'POST', `/demo/conversations/${created.id}/give`, { item: 'gold', count: 50 })).json.unlocked).toEqual(['bandit_hideout'])
      }
      const seen = await call(b, 'GET', `/conversations/${created.id}`)
      expect(seen.json.history.filter((h: { role: string }) => h.role === 'user').map((h: { content: string }) => h.content)).toEqual(lines)
      expect(seen.json.items).toEqual({ gold: 50 })
      expect((await call(a, 'GET', `/conversations/${created.id}`)).json.history).toEqual(seen.json.history)
      // Another player cannot reach it from either server.
      expect((await player()(a, 'GET', `/conversations/${created.id}`)).status).toBe(404)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  }, 60_000)

  it('a server killed mid-turn: the player retries on the other, and the turn is recorded once', async () => {
    const env = { REDIS_URL: redis.url, GLM_API_KEY: emu.apiKey, GLM_BASE_URL: emu.url }
    const [a, b] = await Promise.all([new DemoProcess(env).ready, new DemoProcess(env).ready])
    try {
      const call = player()
      const { json: created } = await call(a, 'POST', '/conversations', { npc: 'informant' })
      await call(a, 'POST', `/conversations/${created.id}/messages`, { text: '第一句' })
      emu.reset()
      emu.fault({ delayMs: 3000 })
      const key = { 'idempotency-key': 'turn-2' }
      const doomed = call(a, 'POST', `/conversations/${created.id}/messages`, { text: '第二句' }, key).catch(() => undefined)
      while (emu.chatRequests.length === 0) await new Promise((r) => setTimeout(r, 20))
      a.kill()
      await doomed
      const retried = await call(b, 'POST', `/conversations/${created.id}/messages`, { text: '第二句' }, key)
      expect(retried.status).toBe(200)
      expect(retried.json.text).toBe('echo: 第二句')
      const again = await call(b, 'POST', `/conversations/${created.id}/messages`, { text: '第二句' }, key)
      expect(again.json).toEqual(retried.json)
      const history = (await call(b, 'GET', `/conversations/${created.id}`)).json.history.map((h: { content: string }) => h.content)
      expect(history).toEqual(['第一句', 'echo: 第一句', '第二句', 'echo: 第二句'])
      expect(emu.chatRequests.filter((r) => r.body.messages.at(-1).content === '第二句')).toHaveLength(2)
    } finally {
      a.kill()
      await b.stop()
    }
  }, 60_000)

  it('two servers answering the same conversation at once: one turn is recorded, the other answers 409', async () => {
    const env = { REDIS_URL: redis.url, GLM_API_KEY: emu.apiKey, GLM_BASE_URL: emu.url }
    const [a, b] = await Promise.all([new DemoProcess(env).ready, new DemoProcess(env).ready])
    try {
      const call = player()
      const { json: created } = await call(a, 'POST', '/conversations', { npc: 'informant' })
      emu.reset()
      emu.reply = async (req) => {
        await new Promise((r) => setTimeout(r, 300))
        return `echo: ${req.body.messages.at(-1).content}`
      }
      const [ra, rb] = await Promise.all([
        call(a, 'POST', `/conversations/${created.id}/messages`, { text: '从A说' }),
        call(b, 'POST', `/conversations/${created.id}/messages`, { text: '从B说' }),
      ])
      expect([ra.status, rb.status].sort()).toEqual([200, 409])
      const loser = ra.status === 409 ? ra : rb
      expect(loser.json.error).toEqual({ code: 'conflict', message: 'this conversation changed on another server during this request; send it again' })
      const winner = ra.status === 200 ? '从A说' : '从B说'
      const history = (await call(a, 'GET', `/conversations/${created.id}`)).json.history.map((h: { content: string }) => h.content)
      expect(history).toEqual([winner, `echo: ${winner}`])
    } finally {
      emu.reset()
      await Promise.all([a.stop(), b.stop()])
    }
  }, 60_000)

  it('Redis restarted under load: with idempotency keys every turn is recorded exactly once', async () => {
    const [a] = await Promise.all([new DemoProcess({ REDIS_URL: redis.url }).ready])
    try {
      const players = Array.from({ length: 8 }, () => player())
      const ids: string[] = []
      for (const p of players) ids.push((await p(a, 'POST', '/conversations', { npc: 'informant' })).json.id)
      const said: string[][] = ids.map(() => [])
      let stop = false
      let refused = 0
      const load = players.map(async (p, i) => {
        for (let t = 0; !stop && t < 200; t++) {
          const line = `p${i} t${t}`
          // A save can reach Redis's log just before it dies, with its reply lost: the player sees
          // 503 for a turn that was recorded. Retrying with the same key returns that turn, once.
          for (let attempt = 0; ; attempt++) {
            const r = await p(a, 'POST', `/conversations/${ids[i]}/messages`, { text: line }, { 'idempotency-key': line.replace(' ', '-') })
            if (r.status === 200) break
            if (r.status !== 503 || attempt > 100) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.json)}`)
            refused++
            await new Promise((res) => setTimeout(res, 50))
          }
          said[i]!.push(line)
        }
      })
      await new Promise((r) => setTimeout(r, 400))
      await redis.restart()
      await new Promise((r) => setTimeout(r, 600))
      stop = true
      await Promise.all(load)
      for (const [i, p] of players.entries()) {
        const { json } = await p(a, 'GET', `/conversations/${ids[i]}`)
        const lines = json.history.filter((h: { role: string }) => h.role === 'user').map((h: { content: string }) => h.content)
        expect(lines).toEqual(said[i])
        expect(json.history.length).toBe(lines.length * 2)
      }
      expect(said.flat().length).toBeGreaterThan(16)
      // The restart was felt: some requests were refused while Redis was down, none half-written.
      expect(refused).toBeGreaterThan(0)
    } finally {
      await a.stop()
    }
  }, 60_000)

  it('idle conversations are evicted by the TTL, on every server', async () => {
    const [a, b] = await Promise.all([new DemoProcess({ REDIS_URL: redis.url, PARLEY_IDLE_MS: '400' }).ready, new DemoProcess({ REDIS_URL: redis.url, PARLEY_IDLE_MS: '400' }).ready])
    try {
      const call = player()
      const { json: created } = await call(a, 'POST', '/conversations', { npc: 'informant' })
      expect((await call(b, 'GET', `/conversations/${created.id}`)).status).toBe(200)
      await new Promise((r) => setTimeout(r, 900))
      expect((await call(b, 'GET', `/conversations/${created.id}`)).status).toBe(404)
      expect((await call(a, 'GET', `/conversations/${created.id}`)).status).toBe(404)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  }, 60_000)
})
