/**
 * The routes as hono serves them: what the hand-routed handler answered stays answered (404, 405,
 * 400 codes), and creating or restoring with an Idempotency-Key is one conversation however often
 * it is sent.
 */
import { describe, expect, it } from 'vitest'
import { scriptedProvider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { allNpcs } from './helpers/npcs.ts'

const GAME_KEY = 'game-key.http-routes-test-0123456789abcdef'
const json = { 'content-type': 'application/json' }

async function setup() {
  const npcs = await allNpcs()
  const handler = createDialogueHandler({ npcs, provider: scriptedProvider(), gameKeys: [GAME_KEY] })
  const token = (await (await handler(new Request('http://t/api/player-tokens', { method: 'POST', headers: { ...json, authorization: `Bearer ${GAME_KEY}` }, body: JSON.stringify({ player: 'acct-1' }) }))).json()) as { token: string }
  const asPlayer = (path: string, init: RequestInit = {}) => handler(new Request(`http://t/api${path}`, { ...init, headers: { ...json, 'x-parley-client': token.token, ...init.headers } }))
  return { npcs, handler, asPlayer }
}

describe('routes from schemas', () => {
  it('answers paths no route takes with 404 and methods a path does not take with 405, as problems', async () => {
    const { handler, asPlayer } = await setup()
    const missing = await asPlayer('/nothing-here')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } })
    const wrongMethod = await asPlayer('/npcs', { method: 'DELETE' })
    expect(wrongMethod.status).toBe(405)
    expect(await wrongMethod.json()).toMatchObject({ error: { code: 'method_not_allowed' } })
    const outside = await handler(new Request('http://t/elsewhere'))
    expect(outside.status).toBe(404)
    expect(outside.headers.get('cache-control')).toBe('no-store')
    await handler.close()
  })

  it('keeps the clear 400s: unknown fields, wrong types, bad JSON, a bad Idempotency-Key', async () => {
    const { npcs, handler, asPlayer } = await setup()
    const extra = await asPlayer('/conversations', { method: 'POST', body: JSON.stringify({ npc: npcs[0]!.id, admin: true }) })
    expect(extra.status).toBe(400)
    expect(await extra.json()).toMatchObject({ error: { code: 'invalid_body' } })
    const wrongType = await asPlayer('/conversations', { method: 'POST', body: JSON.stringify({ npc: 7 }) })
    expect(await wrongType.json()).toMatchObject({ error: { code: 'invalid_body', message: expect.stringContaining('npc') } })
    const notJson = await asPlayer('/conversations', { method: 'POST', body: '{npc:' })
    expect(await notJson.json()).toMatchObject({ error: { code: 'invalid_json' } })
    const badKey = await asPlayer('/conversations', { method: 'POST', headers: { 'idempotency-key': 'has space' }, body: JSON.stringify({ npc: npcs[0]!.id }) })
    expect(badKey.status).toBe(400)
    expect(await badKey.json()).toMatchObject({ error: { code: 'invalid_idempotency_key' } })
    expect(handler.stats().stored).toBe(0)
    await handler.close()
  })

  it('a create sent three times with one Idempotency-Key is one conversation; the same key for another NPC is refused', async () => {
    const { npcs, handler, asPlayer } = await setup()
    const send = (npc: string, key: string) => asPlayer('/conversations', { method: 'POST', headers: { 'idempotency-key': key }, body: JSON.stringify({ npc }) })
    const answers = await Promise.all([send(npcs[0]!.id, 'start-1'), send(npcs[0]!.id, 'start-1'), send(npcs[0]!.id, 'start-1')])
    const ids = await Promise.all(answers.map(async (r) => (expect(r.status).toBe(201), ((await r.json()) as { id: string }).id)))
    expect(new Set(ids).size).toBe(1)
    expect(handler.stats().stored).toBe(1)
    const other = npcs.find((n) => n.id !== npcs[0]!.id)
    if (other) {
      const reused = await send(other.id, 'start-1')
      expect(reused.status).toBe(409)
      expect(await reused.json()).toMatchObject({ error: { code: 'idempotency_key_reused' } })
    }
    // a prototype name is an ordinary key
    const proto = await send(npcs[0]!.id, '__proto__')
    expect(proto.status).toBe(201)
    expect(((await (await send(npcs[0]!.id, '__proto__')).json()) as { id: string }).id).toBe(((await proto.json()) as { id: string }).id)
    expect(handler.stats().stored).toBe(2)
    await handler.close()
  })

  it('another player sending the same key gets a conversation of its own', async () => {
    const { npcs, handler, asPlayer } = await setup()
    const mine = (await (await asPlayer('/conversations', { method: 'POST', headers: { 'idempotency-key': 'k' }, body: JSON.stringify({ npc: npcs[0]!.id }) })).json()) as { id: string }
    const anon = await handler(new Request('http://t/api/conversations', { method: 'POST', headers: { ...json, 'idempotency-key': 'k' }, body: JSON.stringify({ npc: npcs[0]!.id }) }))
    expect(((await anon.json()) as { id: string }).id).not.toBe(mine.id)
    await handler.close()
  })
})
