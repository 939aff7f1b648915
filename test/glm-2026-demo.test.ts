/**
 * GLM as it is in 2026 (issue 16), through the demo server as its own process, talking to the
 * emulator: the path a studio's players take (HTTP, SSE) rather than the library alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DemoProcess, gameCaller, player } from './helpers/demo-process.ts'
import { useEmulator } from './helpers/emulator.ts'
import { COURIER_DIR, KEY_LINE, PLAIN_LINE, keyModel } from './helpers/courier.ts'
import type { EmbeddingFault } from './glm-emulator/emulator.ts'

const emulator = useEmulator({ chunkSize: 3 })
const cache = mkdtempSync(join(tmpdir(), 'parley-demo-2026-'))

/** One demo server per model family and server kind: the model and the base URL come from the environment, as in production. */
const SERVERS = {
  glm4: { model: 'glm-4-flash-250414', base: 'glm' },
  glm47: { model: 'glm-4.7-flash', base: 'glm' },
  glm52: { model: 'glm-5.2', base: 'glm' },
  glm53: { model: 'glm-5.3', base: 'glm' },
  z1: { model: 'glm-z1-flash', base: 'glm' },
  ollama: { model: 'glm-4.5-air', base: 'openai', server: 'ollama' },
  openai: { model: 'glm-4.5-air', base: 'openai' },
} as const
type ServerName = keyof typeof SERVERS
const servers = {} as Record<ServerName, DemoProcess>

beforeAll(async () => {
  const started = await Promise.all(
    Object.entries(SERVERS).map(async ([name, c]) => {
      const env: Record<string, string> = {
        GLM_API_KEY: emulator().apiKey,
        GLM_BASE_URL: c.base === 'glm' ? emulator().url : emulator().openaiUrl,
        GLM_MODEL: c.model,
        PARLEY_NPC_DIR: COURIER_DIR,
        PARLEY_CACHE_DIR: cache,
        ...('server' in c && { GLM_SERVER: c.server }),
      }
      return [name, await new DemoProcess(env).ready] as const
    }),
  )
  for (const [name, server] of started) servers[name as ServerName] = server
}, 120_000)

afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()))
  rmSync(cache, { recursive: true, force: true })
})

const call = player()
// Gifts are the game's to make (issue 14): the test plays the game's server with its key.
const game = gameCaller()

async function conversation(server: DemoProcess, paid = false): Promise<string> {
  const { json } = await call(server, 'POST', '/conversations', { npc: 'courier' })
  if (paid) expect((await game(server, 'POST', `/conversations/${json.id}/items`, { item: 'silver' })).status).toBe(200)
  return json.id as string
}

/** One turn over SSE: the deltas the page would show, the `done` result, and the raw stream. */
async function sse(server: DemoProcess, id: string, text: string) {
  const res = await call(server, 'POST', `/conversations/${id}/messages`, { text }, { accept: 'text/event-stream' })
  expect(res.status).toBe(200)
  const events = res.text.trim().split('\n\n').map((b) => ({ event: /^event: (.*)$/m.exec(b)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(b)?.[1] ?? 'null') }))
  return { deltas: events.filter((e) => e.event === 'delta').map((e) => e.data.text).join(''), done: events.find((e) => e.event === 'done')?.data, raw: res.text }
}

describe('streamed tool calls in fragments, through the demo server', () => {
  it('GLM with tool_stream: the fragmented give_key is carried out over SSE', async () => {
    emulator().reply = keyModel()
    const id = await conversation(servers.glm47, true)
    const { deltas, done } = await sse(servers.glm47, id, '钥匙给我')
    expect(emulator().chatRequests[0]!.body).toMatchObject({ stream: true, tool_stream: true })
    expect(done).toMatchObject({ kind: 'reply', text: KEY_LINE, actions: [{ name: 'give_key', args: { door: '七号仓库' }, status: 'done' }] })
    expect(deltas).toBe(KEY_LINE)
  })

  it('the openai flavour: fragments ending with tool_calls, carried out over SSE', async () => {
    emulator().reply = keyModel()
    const id = await conversation(servers.openai, true)
    const { done } = await sse(servers.openai, id, '钥匙给我')
    expect(emulator().chatRequests[0]!.path).toBe('/v1/chat/completions')
    expect(emulator().chatRequests[0]!.body).toMatchObject({ stream_options: { include_usage: true }, chat_template_kwargs: { enable_thinking: false } })
    expect(done).toMatchObject({ kind: 'reply', text: KEY_LINE, actions: [{ name: 'give_key', status: 'done' }] })
  })
})

/** Each family's request as it must leave the demo server: `thinker` is the NPC file with `thinking: true`. */
const FAMILIES: Array<{ server: ServerName; npc: 'courier' | 'thinker'; shape: Record<string, unknown>; absent: string[] }> = [
  { server: 'glm4', npc: 'courier', shape: {}, absent: ['thinking', 'reasoning_effort', 'chat_template_kwargs'] },
  { server: 'glm47', npc: 'courier', shape: { thinking: { type: 'disabled' } }, absent: ['reasoning_effort'] },
  { server: 'glm47', npc: 'thinker', shape: { thinking: { type: 'enabled' } }, absent: ['reasoning_effort'] },
  { server: 'glm52', npc: 'courier', shape: { reasoning_effort: 'none' }, absent: ['thinking'] },
  { server: 'glm53', npc: 'courier', shape: { reasoning_effort: 'low' }, absent: ['thinking'] },
  { server: 'z1', npc: 'courier', shape: {}, absent: ['thinking', 'reasoning_effort'] },
  { server: 'ollama', npc: 'courier', shape: { reasoning_effort: 'none' }, absent: ['chat_template_kwargs'] },
  { server: 'openai', npc: 'courier', shape: { chat_template_kwargs: { enable_thinking: false } }, absent: ['reasoning_effort'] },
  { server: 'openai', npc: 'thinker', shape: { chat_template_kwargs: { enable_thinking: true } }, absent: ['reasoning_effort'] },
]

describe('thinking families, through the demo server', () => {
  for (const f of FAMILIES) {
    it(`${SERVERS[f.server].model} on ${f.server === 'openai' ? 'vLLM' : f.server}, ${f.npc === 'thinker' ? 'thinking on' : 'thinking off'}: the request fits the family; page, JSON and inspector never see reasoning`, async () => {
      emulator().reply = () => PLAIN_LINE
      const server = servers[f.server]
      const { json } = await call(server, 'POST', '/conversations', { npc: f.npc })
      const streamed = await sse(server, json.id, '你好')
      expect(streamed.deltas).toBe(PLAIN_LINE)
      expect(streamed.done).toMatchObject({ kind: 'reply', text: PLAIN_LINE })
      const body = emulator().chatRequests[0]!.body
      expect(body).toMatchObject({ model: SERVERS[f.server].model, ...f.shape })
      for (const key of f.absent) expect(body).not.toHaveProperty(key)
      const again = await call(server, 'POST', `/conversations/${json.id}/messages`, { text: '再说一遍' })
      expect(again.json).toMatchObject({ kind: 'reply', text: PLAIN_LINE })
      const view = await call(server, 'GET', `/conversations/${json.id}`)
      for (const text of [streamed.raw, again.text, view.text, emulator().chatRequests[1]!.raw]) {
        expect(text).not.toContain('推理')
        expect(text).not.toContain('think>')
      }
    })
  }
})

describe('context overflow, through the demo server', () => {
  it('model_context_window_exceeded: trimmed, answered, and the page is told', async () => {
    const id = await conversation(servers.glm47, true)
    await call(servers.glm47, 'POST', `/conversations/${id}/messages`, { text: '你好' })
    emulator().reset()
    emulator().fault({ overflow: true })
    const { done } = await sse(servers.glm47, id, '仓库在哪？')
    expect(done).toMatchObject({ kind: 'reply', text: 'echo: 仓库在哪？', contextTrimmed: true })
    const [tooBig, halved] = emulator().chatRequests
    expect(halved!.raw.length).toBeLessThan(tooBig!.raw.length)
    expect(halved!.body.messages[0].content).toContain('走私的货藏在七号仓库。')
  })
})

describe('lore never costs a turn, through the demo server', () => {
  it.each<[string, EmbeddingFault]>([
    ['500', { status: 500, code: '500' }],
    ['429 / 1113', { status: 429, code: '1113' }],
    ['8 s slow', { delayMs: 8000 }],
  ])('embeddings %s while chat works: a reply with BM25\'s lore, not the fallback line', async (_name, fault) => {
    emulator().embeddingFaultWith(() => fault)
    try {
      const id = await conversation(servers.glm47)
      const started = Date.now()
      const { done } = await sse(servers.glm47, id, '灯塔的看守是什么样的人？')
      expect(Date.now() - started).toBeLessThan(5000)
      expect(done).toMatchObject({ kind: 'reply', text: 'echo: 灯塔的看守是什么样的人？', loreFallback: expect.stringMatching(/^embeddings_(failed|slow)$/) })
      if (fault.delayMs) expect(done.loreFallback).toBe('embeddings_slow')
      if (fault.code === '1113') expect(done.loreFallback).toBe('embeddings_failed')
      expect(emulator().chatRequests[0]!.body.messages[0].content).toContain('独眼老人')
      expect(emulator().embeddingRequests.length).toBeGreaterThan(0)
    } finally {
      emulator().embeddingFaultWith(undefined)
    }
  })
})
