/**
 * The demo remembers a returning player: the demo server (the game) keeps memory, so reopening the
 * page (a new conversation with the same signed client id cookie) has the informant greet the
 * player with its `welcome_back` line and carry what it remembers; another browser gets none of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoServer } from '../packages/demo-web/server.ts'
import { informant } from './helpers/npcs.ts'

let server: Awaited<ReturnType<typeof startDemoServer>>
beforeAll(async () => {
  server = await startDemoServer({ port: 0, env: { PARLEY_TYPING_MS: '0', PARLEY_RATE_PER_MINUTE: '1000000' } })
}, 60_000)
afterAll(async () => {
  await server?.close()
})

function browser() {
  let cookie = ''
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.port}/api${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(cookie && { cookie }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const set = res.headers.get('set-cookie')
    if (set) cookie = set.split(';')[0]!
    return { status: res.status, body: await res.json() }
  }
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
})
