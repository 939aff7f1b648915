/**
 * The demo remembers a returning player: the demo server (the game) keeps memory, so reopening the
 * page (a new conversation with the same signed client id cookie) has the informant greet the
 * player with its `welcome_back` line and carry what it remembers; another browser gets none of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoServer } from '../packages/demo-web/server.ts'
import { DEMO_INVENTORY, inventoryFor } from '../packages/demo-web/inventory.ts'
import { DEMO_RULES } from '../packages/demo-web/deeds.ts'
import { PurseBook } from '../packages/demo-web/purse.ts'
import { MemoryConversationStore, scriptedProvider } from '@parley/engine'
import { createDialogueHandler, KeyRing } from '@parley/engine/http'
import { informant } from './helpers/npcs.ts'

let server: Awaited<ReturnType<typeof startDemoServer>>
beforeAll(async () => {
  server = await startDemoServer({ port: 0, env: { PARLEY_TYPING_MS: '0', PARLEY_RATE_PER_MINUTE: '1000000' } })
}, 60_000)
afterAll(async () => {
  await server?.close()
})

/** A browser on the demo page: `/api…` paths go to the engine, `/demo…` paths to the game's own routes. */
function browser() {
  let cookie = ''
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path.startsWith('/demo/') ? '' : '/api'}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(cookie && { cookie }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const set = res.headers.get('set-cookie')
    if (set) cookie = set.split(';')[0]!
    return { status: res.status, body: await res.json() }
  }
}

/** Waits for the background write of the record after a conversation ended (the page may be reopened before it). */
async function recorded(page: ReturnType<typeof browser>, npc: string, conversations: number) {
  const deadline = Date.now() + 10_000
  while ((await page('GET', `/memory/${npc}`)).body.conversations < conversations && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
  expect((await page('GET', `/memory/${npc}`)).body.conversations).toBe(conversations)
}

describe('the demo remembers a returning player', () => {
  it('reopening the page, the informant greets the player it remembers, and only that player', async () => {
    const npc = informant()
    const page = browser()
    const first = await page('POST', '/conversations', { npc: npc.id })
    expect(first.body.returning).toBe(false)
    expect(first.body.greeting).toBe(npc.greeting ?? null)
    await page('POST', `/conversations/${first.body.id}/messages`, { text: '我叫林小雨，替我父亲来问消息' })
    expect((await page('POST', `/conversations/${first.body.id}/messages`, { text: npc.exit_phrases[0] })).body.kind).toBe('farewell')

    // The memory is written in the background: the page may be reopened before it is.
    const deadline = Date.now() + 10_000
    while ((await page('GET', `/memory/${npc.id}`)).body.memories.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))

    const reopened = await page('POST', '/conversations', { npc: npc.id })
    expect(reopened.body.returning).toBe(true)
    expect(reopened.body.greeting).toBe(npc.lines.welcome_back ?? npc.greeting)
    expect(reopened.body.explain.memories).toEqual([expect.objectContaining({ carried: true, text: expect.stringContaining('林小雨') })])
    const turn = await page('POST', `/conversations/${reopened.body.id}/messages`, { text: '还记得我吗' })
    expect(turn.body.conversation.lastRequest[0].content).toContain('林小雨')

    const other = browser()
    const stranger = await other('POST', '/conversations', { npc: npc.id })
    expect(stranger.body.returning).toBe(false)
    expect(JSON.stringify(stranger.body)).not.toContain('林小雨')

    // "New game": the player clears its own record, and the next conversation starts from nothing.
    expect((await page('POST', '/memory/new-game', {})).status).toBe(200)
    expect((await page('POST', '/conversations', { npc: npc.id })).body.returning).toBe(false)
  })

  describe('the purse carries across conversations, as the trust it buys does', () => {
    const npc = informant()
    const [PAID_WITH, REWARD] = Object.entries(DEMO_RULES[npc.id]!.rewards!)[0]!
    const HELD = DEMO_INVENTORY[npc.id]!.start[PAID_WITH]!
    const [MAP_FLAG, MAP] = [...inventoryFor(npc).handOvers][0]!
    const count = (inv: { items: Array<{ id: string; count: number }> }, id: string) => inv.items.find((i) => i.id === id)?.count ?? 0

    it('the same gold cannot buy trust twice: a later conversation starts with the purse the last one left', async () => {
      const page = browser()
      const first = (await page('POST', '/conversations', { npc: npc.id })).body.id as string
      expect(count((await page('GET', `/demo/conversations/${first}/inventory`)).body, PAID_WITH)).toBe(HELD)
      const paid = await page('POST', `/demo/conversations/${first}/give`, { item: PAID_WITH, count: HELD })
      expect(paid.status).toBe(200)
      const trust = paid.body.conversation.vars[REWARD.var] as number
      expect(trust).toBeGreaterThan(0)
      await page('POST', `/conversations/${first}/messages`, { text: '钱给你了' })
      await page('POST', `/conversations/${first}/messages`, { text: npc.exit_phrases[0] })
      await recorded(page, npc.id, 1)

      const second = (await page('POST', '/conversations', { npc: npc.id })).body
      // The record carried the trust bought...
      expect((await page('GET', `/conversations/${second.id}`)).body.vars[REWARD.var]).toBe(trust)
      // ...and the purse it was bought with is as empty as it was left.
      expect(count((await page('GET', `/demo/conversations/${second.id}/inventory`)).body, PAID_WITH)).toBe(0)
      const again = await page('POST', `/demo/conversations/${second.id}/give`, { item: PAID_WITH, count: REWARD.per })
      expect(again.status).toBe(409)
      expect(again.body.error.code).toBe('not_enough_items')
      expect((await page('GET', `/conversations/${second.id}`)).body.vars[REWARD.var]).toBe(trust)

      // Another browser is another player, with a full purse of its own.
      const other = browser()
      const theirs = (await other('POST', '/conversations', { npc: npc.id })).body.id as string
      expect(count((await other('GET', `/demo/conversations/${theirs}/inventory`)).body, PAID_WITH)).toBe(HELD)

      // A new game: the records are emptied and the purse is full again.
      expect((await page('POST', '/memory/new-game', {})).status).toBe(200)
      const fresh = (await page('POST', '/conversations', { npc: npc.id })).body.id as string
      expect(count((await page('GET', `/demo/conversations/${fresh}/inventory`)).body, PAID_WITH)).toBe(HELD)
    })

    it('two conversations of one player cannot spend the same gold at once', async () => {
      const page = browser()
      const a = (await page('POST', '/conversations', { npc: npc.id })).body.id as string
      const b = (await page('POST', '/conversations', { npc: npc.id })).body.id as string
      const gifts = await Promise.all([a, b].map((id) => page('POST', `/demo/conversations/${id}/give`, { item: PAID_WITH, count: HELD })))
      expect(gifts.map((g) => g.status).sort()).toEqual([200, 409])
    })

    it('what the NPC handed over is handed over once: a later conversation lists it and does not offer it again', async () => {
      const page = browser()
      const first = (await page('POST', '/conversations', { npc: npc.id })).body.id as string
      const half = Math.floor(HELD / 2)
      expect((await page('POST', `/demo/conversations/${first}/give`, { item: PAID_WITH, count: half })).status).toBe(200)
      const handed = await page('POST', `/conversations/${first}/messages`, { text: '给我地图' })
      expect(handed.body.actions).toEqual([expect.objectContaining({ name: 'give_map', status: 'done' })])
      expect((await page('GET', `/demo/conversations/${first}/inventory`)).body.received).toEqual([MAP])
      await page('POST', `/conversations/${first}/messages`, { text: npc.exit_phrases[0] })
      await recorded(page, npc.id, 1)

      const second = (await page('POST', '/conversations', { npc: npc.id })).body.id as string
      const inv = (await page('GET', `/demo/conversations/${second}/inventory`)).body
      expect(inv.received).toEqual([MAP])
      expect(count(inv, PAID_WITH)).toBe(HELD - half)
      expect((await page('GET', `/conversations/${second}`)).body.flags).toContain(MAP_FLAG)
      // Paying again does not buy the map again: the action is not offered, so it is not done.
      expect((await page('POST', `/demo/conversations/${second}/give`, { item: PAID_WITH, count: HELD - half })).status).toBe(200)
      const asked = await page('POST', `/conversations/${second}/messages`, { text: '给我地图' })
      expect((asked.body.actions ?? []).filter((x: { name: string; status: string }) => x.name === 'give_map' && x.status === 'done')).toEqual([])
      expect((await page('GET', `/demo/conversations/${second}/inventory`)).body.received).toEqual([MAP])
    })
  })

  it("the game forgetting the player (DELETE /api/memory) forgets the purse with the records", async () => {
    const store = new MemoryConversationStore({ sweepEveryMs: 0 })
    const npc = informant()
    const handler = createDialogueHandler({ npcs: [npc], provider: scriptedProvider(), store, gameKeys: ['game-key.demo-purse-test-0123456789abcdef'], memory: true })
    const book = new PurseBook(store, KeyRing.ephemeral())
    await book.change('p:acct-3', npc.id, (p) => ({ ...p, given: { gold: 50 }, received: ['gave_map'] }))
    expect(await book.read('p:acct-3', npc.id)).toEqual({ given: { gold: 50 }, received: ['gave_map'] })
    const forgot = await handler(new Request('http://demo.test/api/memory', { method: 'DELETE', headers: { authorization: 'Bearer game-key.demo-purse-test-0123456789abcdef', 'x-parley-player': 'acct-3' } }))
    expect(forgot.status).toBe(200)
    expect(await book.read('p:acct-3', npc.id)).toEqual({ given: {}, received: [] })
    await handler.close()
    await store.close()
  })
})
