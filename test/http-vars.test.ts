import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseNpc, scriptedProvider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { createParleyClient, ParleyError } from '@parley/client'
import { ROOT } from './helpers/npcs.ts'

const GAME_KEY = 'game-key.http-vars-test-0123456789abcdef'
const path = `${ROOT}test/fixtures/vars/confidant.yaml`
const confidant = () => parseNpc(readFileSync(path, 'utf8'), path)

function client(handler: (r: Request) => Promise<Response>, as: 'player' | 'game') {
  let cookie = ''
  return async (method: string, url: string, body?: unknown) => {
    const res = await handler(
      new Request(`http://demo.test/api${url}`, {
        method,
        headers: { 'content-type': 'application/json', ...(cookie && { cookie }), ...(as === 'game' && { authorization: `Bearer ${GAME_KEY}` }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
    )
    const set = res.headers.get('set-cookie')
    if (set) cookie = set.split(';')[0]!
    const text = await res.text()
    return { status: res.status, json: () => JSON.parse(text) }
  }
}

describe('POST /api/conversations/:id/vars', () => {
  it('is the game\'s: it sets a variable and answers with what that unlocked', async () => {
    const handler = createDialogueHandler({ npcs: [confidant()], provider: scriptedProvider(), gameKeys: [GAME_KEY] })
    const player = client(handler, 'player')
    const game = client(handler, 'game')
    const { id } = (await player('POST', '/conversations', { npc: 'confidant' })).json()
    const first = await game('POST', `/conversations/${id}/vars`, { name: 'trust', value: 3 })
    expect(first.status).toBe(200)
    expect(first.json()).toMatchObject({ unlocked: [] })
    expect((await game('POST', `/conversations/${id}/vars`, { name: 'trust', value: 5 })).json()).toMatchObject({ unlocked: ['back_door'] })
    expect((await game('GET', `/conversations/${id}/inspect`)).json().vars).toEqual({ trust: 5, warmth: 0, mood: 'calm' })
  })

  it('refuses a player (401), with a game key off (404), and bad names and values (400), changing nothing', async () => {
    const handler = createDialogueHandler({ npcs: [confidant()], provider: scriptedProvider(), gameKeys: [GAME_KEY] })
    const player = client(handler, 'player')
    const game = client(handler, 'game')
    const { id } = (await player('POST', '/conversations', { npc: 'confidant' })).json()
    const asPlayer = await player('POST', `/conversations/${id}/vars`, { name: 'trust', value: 10 })
    expect(asPlayer.status).toBe(401)
    expect(asPlayer.json().error.code).toBe('game_key_required')
    for (const [body, code] of [
      [{ name: 'trust', value: 11 }, 'invalid_var'],
      [{ name: 'trust', value: 'calm' }, 'invalid_var'],
      [{ name: 'mood', value: 'furious' }, 'invalid_var'],
      [{ name: 'trsut', value: 1 }, 'unknown_var'],
      [{ name: '__proto__', value: 1 }, 'unknown_var'],
      [{ name: 'constructor', value: 1 }, 'unknown_var'],
      [{ name: 'trust', value: 'x'.repeat(10_000) }, 'invalid_body'],
      [{ name: 'trust' }, 'invalid_body'],
    ] as const) {
      const r = await game('POST', `/conversations/${id}/vars`, body)
      expect(r.status, JSON.stringify(body).slice(0, 60)).toBe(400)
      expect(r.json().error.code).toBe(code)
    }
    expect((await game('GET', `/conversations/${id}/inspect`)).json()).toMatchObject({ vars: { trust: 0, warmth: 0, mood: 'calm' }, unlocked: [] })

    const noGame = createDialogueHandler({ npcs: [confidant()], provider: scriptedProvider() })
    const alone = client(noGame, 'player')
    const { id: other } = (await alone('POST', '/conversations', { npc: 'confidant' })).json()
    expect((await alone('POST', `/conversations/${other}/vars`, { name: 'trust', value: 10 })).status).toBe(404)
    expect((await alone('GET', `/conversations/${other}`)).json().unlocked).toEqual([])
  })
})

describe('@parley/client setVar', () => {
  it('sets a game-owned variable through the client with the game key, and a refused value is a ParleyError with the server\'s code', async () => {
    const handler = createDialogueHandler({ npcs: [confidant()], provider: scriptedProvider(), gameKeys: [GAME_KEY] })
    const fetchVia: typeof fetch = (input, init) => handler(new Request(input, init))
    const game = createParleyClient({ baseUrl: 'http://demo.test/api', gameKey: GAME_KEY, fetch: fetchVia })
    const { id } = await game.start('confidant')
    expect((await game.setVar(id, 'trust', 5)).unlocked).toEqual(['back_door'])
    const refused = await game.setVar(id, 'trust', 99).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ParleyError)
    expect(refused).toMatchObject({ status: 400, code: 'invalid_var' })
    expect((await game.inspect(id)).vars).toMatchObject({ trust: 5 })
  })
})
