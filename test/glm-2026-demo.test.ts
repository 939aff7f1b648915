/**
 * GLM as it is in 2026 (issue 16), through the demo server as its own process, talking to the
 * emulator: the path a studio's players take (HTTP, SSE) rather than the library alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DemoProcess, player } from './helpers/demo-process.ts'
import { useEmulator } from './helpers/emulator.ts'
import { COURIER_DIR, KEY_LINE, PLAIN_LINE, keyModel } from './helpers/courier.ts'
import type { EmbeddingFault } from './glm-emulator/emulator.ts'

const emulator = useEmulator({ chunkSize: 3 })
const cache = mkdtempSync(join(tmpdir(), 'parley-demo-2026-'))
const servers: Record<'glm47' | 'openai' | 'z1', DemoProcess> = {} as never

beforeAll(async () => {
  const env = (model: string, baseUrl: string) => ({ GLM_API_KEY: emulator().apiKey, GLM_BASE_URL: baseUrl, GLM_MODEL: model, PARLEY_NPC_DIR: COURIER_DIR, PARLEY_CACHE_DIR: cache })
  const [glm47, openai, z1] = await Promise.all([
    new DemoProcess(env('glm-4.7-flash', emulator().url)).ready,
    new DemoProcess(env('glm-4.5-air', emulator().openaiUrl)).ready,
    new DemoProcess(env('glm-z1-flash', emulator().url)).ready,
  ])
  Object.assign(servers, { glm47, openai, z1 })
}, 60_000)

afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.stop()))
  rmSync(cache, { recursive: true, force: true })
})

const call = player()

async function conversation(server: DemoProcess, paid = false): Promise<string> {
  const { json } = await call(server, 'POST', '/conversations', { npc: 'courier' })
  if (paid) expect((await call(server, 'POST', `/conversations/${json.id}/items`, { item: 'silver' })).status).toBe(200)
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

describe('thinking families, through the demo server', () => {
  it('glm-z1 (<think> in content): neither the page, the JSON answer nor the inspector sees the reasoning', async () => {
    emulator().reply = () => PLAIN_LINE
    const id = await conversation(servers.z1)
    const streamed = await sse(servers.z1, id, '你好')
    expect(streamed.deltas).toBe(PLAIN_LINE)
    expect(streamed.done).toMatchObject({ kind: 'reply', text: PLAIN_LINE })
    const json = await call(servers.z1, 'POST', `/conversations/${id}/messages`, { text: '再说一遍' })
    expect(json.json).toMatchObject({ kind: 'reply', text: PLAIN_LINE })
    const view = await call(servers.z1, 'GET', `/conversations/${id}`)
    for (const text of [streamed.raw, json.text, view.text]) {
      expect(text).not.toContain('推理')
      expect(text).not.toContain('think>')
    }
    // The emulator did reason: the stripping is what kept it out.
    expect(emulator().chatRequests[0]!.body.model).toBe('glm-z1-flash')
  })

  it('glm-4.7: thinking is turned off in the request, so the first spoken word is not kept waiting', async () => {
    emulator().reply = () => PLAIN_LINE
    const id = await conversation(servers.glm47)
    const { done, raw } = await sse(servers.glm47, id, '你好')
    expect(emulator().chatRequests[0]!.body.thinking).toEqual({ type: 'disabled' })
    expect(done).toMatchObject({ kind: 'reply', text: PLAIN_LINE })
    expect(raw).not.toContain('推理')
  })
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
