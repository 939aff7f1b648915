import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ContentError, createConversation, createGlmClient, glmProvider, GlmError, isParleyError, MemoryConversationStore, MemoryKeeper, parseNpc, ParleyError, ProviderFailure, restoreConversation, scriptedProvider, StoreUnavailableError, type ParleyErrorCode } from '@parley/engine'
import { PARLEY_ERROR_CODES } from '@parley/engine/unstable'
import { RedisConversationStore } from '@parley/engine/redis'
import { useEmulator } from './helpers/emulator.ts'
import { freePort } from './helpers/net.ts'
import { ROOT } from './helpers/npcs.ts'

const emulator = useEmulator()
const keeperPath = `${ROOT}test/fixtures/machine/keeper.yaml`
const keeper = () => parseNpc(readFileSync(keeperPath, 'utf8'), keeperPath)
const talk = () => createConversation(keeper(), { provider: scriptedProvider() })
const turn = { model: { name: 'glm-4-flash' }, playerLine: 'hi', script: { replies: [] }, revealed: [], tools: [], signal: new AbortController().signal, messages: [{ role: 'system' as const, content: 'p' }, { role: 'user' as const, content: 'hi' }] }

async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

/** One way, through the public API, to meet each code. */
const throwers: Record<ParleyErrorCode, () => unknown> = {
  content_invalid: () => parseNpc('id: [', 'broken.yaml'),
  unknown_item: () => talk().give('diamond'),
  unknown_flag: () => talk().setFlag('met_boss'),
  unknown_var: () => talk().setVar('trust', 1),
  invalid_var: () => {
    const path = `${ROOT}test/fixtures/vars/confidant.yaml`
    return createConversation(parseNpc(readFileSync(path, 'utf8'), path), { provider: scriptedProvider() }).setVar('trust', 11)
  },
  invalid_argument: () => talk().give('coin', 0),
  line_too_long: () => talk().say('x'.repeat(keeper().max_line_chars + 1)),
  conversation_ended: () => {
    const c = talk()
    c.end()
    return c.say('hello')
  },
  aborted: () => talk().say('hello', { signal: AbortSignal.abort() }),
  snapshot_invalid: () => restoreConversation(keeper(), { format: 'nope' }, { provider: scriptedProvider() }),
  snapshot_wrong_npc: () => restoreConversation(keeper(), { ...talk().snapshot(), npc: 'informant' }, { provider: scriptedProvider() }),
  provider_failed: () => {
    emulator().fault({ empty: true })
    return glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url }).reply(turn)
  },
  glm_failed: () => {
    emulator().fault({ status: 400, code: '1210', message: 'bad parameter' })
    return createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url }).chat({ model: 'glm-4-flash', messages: turn.messages })
  },
  invalid_api_key: () => createGlmClient({ apiKey: 'no-dot-here', auth: 'jwt', baseUrl: emulator().url }).chat({ model: 'glm-4-flash', messages: turn.messages }),
  record_invalid: async () => {
    const store = new MemoryConversationStore({ sweepEveryMs: 0 })
    await store.putRecord({ player: 'p-1', npc: 'keeper' }, { format: 'not a record' }, 0)
    return new MemoryKeeper({ store }).read('p-1', 'keeper')
  },
  store_unavailable: async () => {
    const store = new RedisConversationStore({ url: `redis://127.0.0.1:${await freePort()}` })
    try {
      return await store.get('x')
    } finally {
      await store.close()
    }
  },
}

describe('one error hierarchy with stable codes', () => {
  it.each(PARLEY_ERROR_CODES.map((c) => [c]))('%s is thrown, as a ParleyError', async (code) => {
    const error = await caught(throwers[code])
    expect(error).toBeInstanceOf(ParleyError)
    expect(isParleyError(error)).toBe(true)
    expect(error).toMatchObject({ code })
  })

  it('the subclasses are ParleyErrors with their own codes', async () => {
    expect(await caught(throwers.content_invalid)).toBeInstanceOf(ContentError)
    expect(await caught(throwers.glm_failed)).toBeInstanceOf(GlmError)
    expect(await caught(throwers.provider_failed)).toBeInstanceOf(ProviderFailure)
    expect(await caught(throwers.store_unavailable)).toBeInstanceOf(StoreUnavailableError)
  })

  it('an error from another copy of the library is recognised by its code, a stranger\'s error is not', () => {
    expect(isParleyError(Object.assign(new Error('x'), { code: 'unknown_item' }))).toBe(true)
    expect(isParleyError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false)
    expect(isParleyError({ code: 'unknown_item' })).toBe(false)
  })

  it('the README lists every code, and no other', () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8')
    const table = [...readme.matchAll(/^ {2}\| `([a-z_]+)` \|/gm)].map((m) => m[1])
    expect(table.sort()).toEqual([...PARLEY_ERROR_CODES].sort())
  })

  it('embeddings that are not JSON, or not embeddings, are a GlmError, not a crash', async () => {
    const client = (body: string) => createGlmClient({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9', fetch: async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }) })
    for (const body of ['<html>', '{"data": 5}', '{"data": [{"index": 7, "embedding": [1]}]}']) {
      const error = await caught(() => client(body).embeddings({ model: 'embedding-3', input: ['a'] }))
      expect(error).toMatchObject({ code: 'glm_failed', kind: 'invalid_response' })
    }
  })
})
