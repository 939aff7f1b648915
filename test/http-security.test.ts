import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { MemoryConversationStore, parseNpc, scriptedProvider, type ConversationStore } from '@parley/engine'
import { createDialogueHandler, type DialogueHandlerOptions } from '@parley/engine/http'
import { ROOT, informant } from './helpers/npcs.ts'
import { httpCaller, type CallerOptions } from './helpers/http-caller.ts'

const GAME_KEY = 'game-key.security-test-0123456789abcdef'
const K1 = { id: 'k1', secret: 'first-signing-secret-0123456789abcdef' }
const K2 = { id: 'k2', secret: 'second-signing-secret-0123456789abcdef' }
const vaultPath = `${ROOT}test/fixtures/security/vault-keeper.yaml`
const vaultKeeper = () => parseNpc(readFileSync(vaultPath, 'utf8'), vaultPath)

function handlerWith(over: Partial<DialogueHandlerOptions> = {}) {
  return createDialogueHandler({ npcs: [informant(), vaultKeeper()], provider: scriptedProvider(), gameKeys: [GAME_KEY], signingKeys: [K1], ...over })
}

type Handler = ReturnType<typeof handlerWith>

/** One caller: a browser keeping its cookie, or the game (its key, maybe naming a player), from a documentation address. */
const caller = (handler: Handler, o: Omit<CallerOptions, 'cookie'> = {}) => httpCaller(handler, GAME_KEY, { ...o, base: o.base ?? 'http://game.test', address: o.address ?? '192.0.2.1' })

describe('two kinds of caller', () => {
  it('without a game key the game routes are off, and a bearer token is refused rather than ignored', async () => {
    const handler = handlerWith({ gameKeys: [] })
    const p = caller(handler)
    const { json } = await p('POST', '/conversations', { npc: 'informant' })
    const r = await p('POST', `/conversations/${json.id}/items`, { item: 'red_gem' })
    expect([r.status, r.json.error.code]).toEqual([404, 'game_routes_off'])
    const bearer = await p('POST', `/conversations/${json.id}/items`, { item: 'red_gem' }, { authorization: `Bearer ${GAME_KEY}` })
    expect([bearer.status, bearer.json.error.code]).toEqual([401, 'game_routes_off'])
    expect((await p('GET', `/conversations/${json.id}`)).json.items).toEqual({})
    await handler.close()
  })

  it('a game key is accepted only whole: a prefix, a longer string or another scheme is refused', async () => {
    const handler = handlerWith({ gameKeys: ['rotated-in-key-0123456789abcdef', GAME_KEY] })
    const p = caller(handler)
    const { json } = await p('POST', '/conversations', { npc: 'informant' })
    for (const auth of [`Bearer ${GAME_KEY.slice(0, -1)}`, `Bearer ${GAME_KEY}x`, `Basic ${GAME_KEY}`, 'Bearer ', `bearer${GAME_KEY}`]) {
      expect([auth, (await p('GET', `/conversations/${json.id}/inspect`, undefined, { authorization: auth })).status]).toEqual([auth, 401])
    }
    // Both listed keys work, so a key can be rotated without downtime.
    expect((await p('GET', `/conversations/${json.id}/inspect`, undefined, { authorization: 'Bearer rotated-in-key-0123456789abcdef' })).status).toBe(200)
    expect((await p('GET', `/conversations/${json.id}/inspect`, undefined, { authorization: `Bearer ${GAME_KEY}` })).status).toBe(200)
    await handler.close()
  })

  it('a game client holds a player token the game issued; the game acts for that account by name', async () => {
    const handler = handlerWith()
    const game = caller(handler, { game: true })
    const minted = await game('POST', '/player-tokens', { player: 'acct-42', ttlSeconds: 3600 })
    expect(minted.status).toBe(201)
    const unity = caller(handler, { token: minted.json.token })
    const { json: created } = await unity('POST', '/conversations', { npc: 'informant' })
    expect(created.id).toMatch(/^[0-9a-f]{32}$/)
    expect((await unity('POST', `/conversations/${created.id}/messages`, { text: '你好' })).status).toBe(200)
    // The game's server, naming the same account, gives; naming another account, it is refused.
    expect((await caller(handler, { game: true, player: 'acct-42' })('POST', `/conversations/${created.id}/items`, { item: 'red_gem' })).json.unlocked).toEqual(['boss_location'])
    expect((await caller(handler, { game: true, player: 'acct-43' })('GET', `/conversations/${created.id}/inspect`)).status).toBe(404)
    expect((await unity('GET', `/conversations/${created.id}`)).json.unlocked).toEqual(['boss_location'])
    // A token with one character changed is nobody.
    const forged = minted.json.token.replace(/^./, (c: string) => (c === 'c' ? 'd' : 'c'))
    expect((await caller(handler, { token: forged })('GET', `/conversations/${created.id}`)).status).toBe(404)
    await handler.close()
  })

  it('browser ids are signed: an edited, invented or expired one gets a new identity, never the old one', async () => {
    let now = 1_700_000_000_000
    const handler = handlerWith({ now: () => now, idleMs: 10 * 365 * 86_400_000 })
    const p = caller(handler)
    const first = await p('POST', '/conversations', { npc: 'informant' })
    expect(first.setCookie).toMatch(/^parley_client=[\w.-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=31536000$/)
    const token = p.cookie().split('=')[1]!
    const id = first.json.id
    for (const bad of [token.slice(0, -2) + 'xx', `${token}0`, 'c:0123456789abcdef0123456789abcdef', 'player-0000000000000000000000']) {
      const other = caller(handler)
      other.setCookie(`parley_client=${bad}`)
      const r = await other('GET', `/conversations/${id}`)
      expect([bad, r.status]).toEqual([bad, 404])
      expect(r.setCookie).toMatch(/^parley_client=/)
    }
    expect((await p('GET', `/conversations/${id}`)).status).toBe(200)
    now += 366 * 86_400_000
    expect((await p('GET', `/conversations/${id}`)).status).toBe(404)
    await handler.close()
  })

  it('cookies are Secure over HTTPS, and behind a trusted proxy that says so; a header from anyone else changes nothing', async () => {
    const handler = handlerWith()
    expect((await caller(handler, { base: 'https://game.test' })('GET', '/npcs')).setCookie).toMatch(/; Secure$/)
    expect((await caller(handler)('GET', '/npcs')).setCookie).not.toMatch(/Secure/)
    expect((await caller(handler)('GET', '/npcs', undefined, { 'x-forwarded-proto': 'https' })).setCookie).not.toMatch(/Secure/)
    const proxied = handlerWith({ trustProxy: 1 })
    expect((await caller(proxied)('GET', '/npcs', undefined, { 'x-forwarded-proto': 'https' })).setCookie).toMatch(/; Secure$/)
    await handler.close()
    await proxied.close()
  })
})

describe('signed saves', () => {
  it('keys rotate: a save signed by k1 restores where k1 is still listed, and is refused once it is dropped', async () => {
    const old = handlerWith({ signingKeys: [K1] })
    const p = caller(old)
    const { json } = await p('POST', '/conversations', { npc: 'informant' })
    await caller(old, { game: true })('POST', `/conversations/${json.id}/items`, { item: 'gold', count: 50 })
    const save = (await p('GET', `/conversations/${json.id}/save`)).json
    expect(save.signature).toMatch(/^k1\./)
    // The same player (cookie) on a server that signs with k2 and still verifies k1.
    const rotating = handlerWith({ signingKeys: [K2, K1] })
    const q = caller(rotating)
    q.setCookie(p.cookie())
    const restored = await q('POST', '/conversations', { npc: 'informant', save })
    expect([restored.status, restored.json.items]).toEqual([201, { gold: 50 }])
    expect((await q('GET', `/conversations/${restored.json.id}/save`)).json.signature).toMatch(/^k2\./)
    const retired = handlerWith({ signingKeys: [K2] })
    const r = caller(retired)
    r.setCookie(p.cookie())
    const refused = await r('POST', '/conversations', { npc: 'informant', save })
    expect([refused.status, refused.json.error.code]).toEqual([400, 'save_signature_invalid'])
    for (const h of [old, rotating, retired]) await h.close()
  })

  it('with no signing key configured the handler makes one and says so', async () => {
    const handler = createDialogueHandler({ npcs: [informant()], provider: scriptedProvider() })
    expect(handler.ephemeralSigningKey).toBe(true)
    expect(handlerWith().ephemeralSigningKey).toBe(false)
    await handler.close()
  })
})

describe('passphrases and locked facts never reach a player', () => {
  for (const inspectorForPlayers of [false, true]) {
    it(`in any answer to the player (inspector for players: ${inspectorForPlayers}), while the game's inspector masks them`, async () => {
      const handler = handlerWith({ inspectorForPlayers })
      const p = caller(handler)
      const { json } = await p('POST', '/conversations', { npc: 'vault-keeper' })
      await p('POST', `/conversations/${json.id}/messages`, { text: 'hello' })
      await p('POST', `/conversations/${json.id}/messages`, { text: 'open sesame' }, { accept: 'text/event-stream' })
      expect((await p('POST', `/conversations/${json.id}/messages`, { text: 'swordfish-alpha' })).json.unlocked).toEqual([])
      await p('GET', `/conversations/${json.id}`)
      const save = (await p('GET', `/conversations/${json.id}/save`)).json
      expect(JSON.parse(save.data).said).toEqual([expect.stringMatching(/^hidden:/), expect.stringMatching(/^hidden:/)])
      const restored = await p('POST', '/conversations', { npc: 'vault-keeper', save })
      expect(restored.json.unlocked).toEqual(['door'])
      // The matched passphrases came back: the game's flag is now all the vault code needs.
      expect((await caller(handler, { game: true })('POST', `/conversations/${restored.json.id}/flags`, { flag: 'trusted' })).json.unlocked).toEqual(['vault_code'])
      const everything = p.seen.join('\n')
      for (const secret of ['(?:open|unlock)', 'sesame[!.]', 'swordfish-(?:alpha|beta)', '(?:alpha|beta)', 'THE-VAULT-CODE-IS-4512']) expect(everything).not.toContain(secret)
      expect(everything).not.toContain(JSON.stringify('^(?:open|unlock)\\s+sesame[!.]?$').slice(1, -1))
      const inspected = (await caller(handler, { game: true })('GET', `/conversations/${json.id}/inspect`)).json
      expect(inspected.secrets).toEqual([
        { id: 'door', unlocked: true, condition: 'said /•••/' },
        { id: 'vault_code', unlocked: false, condition: 'all of (said /•••/, flag trusted)' },
      ])
      await handler.close()
    })
  }

  it('the game cannot set a flag the NPC does not declare, nor one named after Object.prototype', async () => {
    const handler = handlerWith()
    const game = caller(handler, { game: true })
    const { json } = await game('POST', '/conversations', { npc: 'vault-keeper' })
    for (const flag of ['constructor', '__proto__', 'undeclared']) {
      const r = await game('POST', `/conversations/${json.id}/flags`, { flag })
      expect([flag, r.status, r.json.error.code]).toEqual([flag, 400, 'unknown_flag'])
    }
    expect((await game('GET', `/conversations/${json.id}/inspect`)).json.flags).toEqual([])
    await handler.close()
  })
})

describe('limits', () => {
  it('creation is limited per player and per address; X-Forwarded-For counts only behind a trusted proxy', async () => {
    const handler = handlerWith({ createPerMinute: 3, addressCreatePerMinute: 6 })
    const p = caller(handler)
    const mine = []
    for (let i = 0; i < 4; i++) mine.push((await p('POST', '/conversations', { npc: 'informant' })).status)
    expect(mine).toEqual([201, 201, 201, 429])
    // Every attempt counts against the address, the refused fourth too: new players from it get
    // two more, then the address is spent, whatever X-Forwarded-For says.
    const others = []
    for (let i = 0; i < 4; i++) others.push((await caller(handler)('POST', '/conversations', { npc: 'informant' }, { 'x-forwarded-for': `10.0.0.${i}` })).status)
    expect(others).toEqual([201, 201, 429, 429])
    const limited = await caller(handler)('POST', '/conversations', { npc: 'informant' })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await caller(handler, { address: '192.0.2.99' })('POST', '/conversations', { npc: 'informant' })).status).toBe(201)
    const proxied = handlerWith({ createPerMinute: 3, addressCreatePerMinute: 1, trustProxy: 1 })
    const behind = []
    for (let i = 0; i < 3; i++) behind.push((await caller(proxied, { address: '127.0.0.1' })('POST', '/conversations', { npc: 'informant' }, { 'x-forwarded-for': `6.6.6.6, 203.0.113.${i}` })).status)
    expect(behind).toEqual([201, 201, 201])
    expect((await caller(proxied, { address: '127.0.0.1' })('POST', '/conversations', { npc: 'informant' }, { 'x-forwarded-for': '7.7.7.7, 203.0.113.0' })).status).toBe(429)
    await handler.close()
    await proxied.close()
  })

  it('at its cap, a server on the memory store refuses new conversations with 503 and Retry-After', async () => {
    const handler = handlerWith({ maxLiveConversations: 3, addressCreatePerMinute: 100, createPerMinute: 100 })
    const p = caller(handler)
    for (let i = 0; i < 3; i++) expect((await p('POST', '/conversations', { npc: 'informant' })).status).toBe(201)
    const full = await p('POST', '/conversations', { npc: 'informant' })
    expect([full.status, full.json.error.code]).toEqual([503, 'server_full'])
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0)
    await handler.close()
  })

  it('with a shared store the oldest live conversation leaves memory, and is loaded again when used', async () => {
    const memory = new MemoryConversationStore({ sweepEveryMs: 0 })
    // A store that keeps conversations outside this process, as Redis does: it reports no size.
    const shared: ConversationStore = { get: (id) => memory.get(id), head: (id) => memory.head(id), put: (id, r, v) => memory.put(id, r, v), delete: (id) => memory.delete(id), touch: (id) => memory.touch(id) }
    const handler = handlerWith({ store: shared, maxLiveConversations: 2, addressCreatePerMinute: 100, createPerMinute: 100 })
    const p = caller(handler)
    const ids = []
    for (let i = 0; i < 4; i++) {
      const { json } = await p('POST', '/conversations', { npc: 'informant' })
      await p('POST', `/conversations/${json.id}/messages`, { text: `line ${i}` })
      ids.push(json.id)
    }
    expect(handler.stats().live).toBe(2)
    const oldest = await p('GET', `/conversations/${ids[0]}`)
    expect(oldest.json.history[0]).toEqual({ role: 'user', content: 'line 0' })
    expect(handler.stats().live).toBe(2)
    await handler.close()
  })

  it('the memory store sweeps expired conversations on its timer, with no request to trigger it', async () => {
    let now = 0
    const store = new MemoryConversationStore({ ttlMs: 1000, now: () => now, sweepEveryMs: 10 })
    await store.put('a', { snapshot: JSON.parse('{}'), owner: 'x', answers: {} }, 0)
    expect(store.size()).toBe(1)
    now += 1001
    await new Promise((r) => setTimeout(r, 60))
    expect(store.size()).toBe(0)
    await store.close()
  })
})

describe('web hygiene', () => {
  it('a loopback server answers loopback Host names only; origins may be configured', async () => {
    const handler = handlerWith({ allowedHosts: 'loopback', allowedOrigins: ['https://play.example'] })
    for (const base of ['http://127.0.0.1:8787', 'http://localhost:8787', 'http://[::1]:8787']) expect([base, (await caller(handler, { base })('GET', '/npcs')).status]).toEqual([base, 200])
    for (const base of ['http://evil.example', 'http://127.0.0.1.nip.io', 'http://localhost.evil.example']) {
      const r = await caller(handler, { base })('GET', '/npcs')
      expect([base, r.status, r.json.error.code]).toEqual([base, 403, 'host_not_allowed'])
    }
    const p = caller(handler, { base: 'http://127.0.0.1:8787' })
    expect((await p('POST', '/conversations', { npc: 'informant' }, { origin: 'https://play.example' })).status).toBe(201)
    expect((await p('POST', '/conversations', { npc: 'informant' }, { origin: 'http://127.0.0.1:8787' })).status).toBe(403)
    expect((await p('POST', '/conversations', { npc: 'informant' }, { origin: 'null' })).status).toBe(403)
    await handler.close()
  })

  it('a body slower than the deadline is abandoned with 408, and the turn never runs', async () => {
    const handler = handlerWith({ bodyTimeoutMs: 200 })
    const p = caller(handler)
    const { json } = await p('POST', '/conversations', { npc: 'informant' })
    const trickle = new ReadableStream<Uint8Array>({
      async pull(out) {
        await new Promise((r) => setTimeout(r, 100))
        out.enqueue(new TextEncoder().encode(' '))
      },
    })
    const res = await handler(new Request(`http://game.test/api/conversations/${json.id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: p.cookie() }, body: trickle, duplex: 'half' } as RequestInit))
    expect(res.status).toBe(408)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('body_timeout')
    expect((await p('GET', `/conversations/${json.id}`)).json.turns).toBe(0)
    await handler.close()
  })
})
