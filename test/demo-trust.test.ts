import { describe, expect, it } from 'vitest'
import { scriptedProvider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { answerGameRoute, DEMO_INVENTORY } from '../packages/demo-web/inventory.ts'
import { varDescriptions } from '../packages/engine/src/vars/values.ts'
import { informant } from './helpers/npcs.ts'

const GAME_KEY = 'game-key.demo-trust-test-0123456789abcdef'

describe('the demo plays the game: paying raises the informant\'s trust', () => {
  it('each gift the demo rewards moves the game-owned variable through the game route, and the model hears the new description', async () => {
    const npc = informant()
    const deed = DEMO_INVENTORY.informant!.deeds!.gold!
    const decl = npc.vars[deed.var]!
    expect(decl.owner).toBe('game')
    if ('one_of' in decl) throw new Error('the demo rewards a number variable')
    const handler = createDialogueHandler({ npcs: [npc], provider: scriptedProvider(), gameKeys: [GAME_KEY] })
    const started = await handler(new Request('http://demo.test/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ npc: npc.id }) }))
    const cookie = started.headers.get('set-cookie')!.split(';')[0]!
    const { id } = await started.json()
    const route = (path: string, body?: unknown) =>
      answerGameRoute(new Request(`http://demo.test${path}`, { method: body ? 'POST' : 'GET', headers: { cookie, 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) }), path, { handler, npcs: new Map([[npc.id, npc]]), gameKey: GAME_KEY, limits: { maxBytes: 4096, timeoutMs: 1000 } })
    const inspect = async () => (await handler(new Request(`http://demo.test/api/conversations/${id}/inspect`, { headers: { authorization: `Bearer ${GAME_KEY}`, cookie } }))).json()

    // Less than one step's worth moves nothing; reaching a step moves it by one.
    expect((await route(`/demo/conversations/${id}/give`, { item: 'gold', count: deed.per - 1 })).status).toBe(200)
    expect((await inspect()).vars[deed.var]).toBe(decl.default)
    await route(`/demo/conversations/${id}/give`, { item: 'gold', count: 1 })
    expect((await inspect()).vars[deed.var]).toBe(decl.default + deed.add)
    const rest = DEMO_INVENTORY.informant!.start.gold! - deed.per
    await route(`/demo/conversations/${id}/give`, { item: 'gold', count: rest })
    const expected = Math.min(decl.max ?? Infinity, decl.default + Math.floor(DEMO_INVENTORY.informant!.start.gold! / deed.per) * deed.add)
    const view = await inspect()
    expect(view.vars[deed.var]).toBe(expected)
    const told = varDescriptions(npc, view.vars)
    expect(told.length).toBeGreaterThan(0)
    // The next request carries the description for the trust the player earned.
    const said = await handler(new Request(`http://demo.test/api/conversations/${id}/messages`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ text: '你好' }) }))
    expect(said.status).toBe(200)
    const system = (await inspect()).lastRequest[0].content as string
    for (const t of told) expect(system).toContain(t)
  })
})
