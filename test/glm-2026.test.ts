/**
 * GLM as it is in 2026 (issue 16), through the engine: streamed tool calls in fragments, thinking
 * per model family, context overflow, business codes, end-user ids, and lore that never costs a turn.
 */
import { describe, expect, it } from 'vitest'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConversation, createGlmClient, glmProvider, isParleyError, type ChatStreamEvent, type Conversation, type GlmProviderOptions, type Npc, type TurnResult } from '@parley/engine'
import { DiskEmbeddingCache } from '@parley/engine/node'
import { DEFAULT_REASONING, estimateTokens, type RecordedRequest } from './glm-emulator/emulator.ts'
import { useEmulator } from './helpers/emulator.ts'
import { expectValidGlmMessages } from './helpers/glm-rules.ts'
import { KEY_LINE, PLAIN_LINE, TOOL_REASONING, courier, keyModel } from './helpers/courier.ts'

const emulator = useEmulator({ chunkSize: 3 })

const provider = (options: Partial<GlmProviderOptions> = {}) =>
  glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url, retry: { baseDelayMs: 1 }, timeoutMs: 3000, ...options })

/** The courier on this model, paid, so `give_key` is offered. */
function paid(model: string, options: Partial<GlmProviderOptions> = {}, edit: (y: string) => string = (y) => y): Conversation {
  const convo = createConversation(courier((y) => edit(y.replace('glm-4-flash', model))), { provider: provider(options), actions: { handler: () => ({ ok: true, result: 'key handed over' }) } })
  convo.give('silver')
  return convo
}

async function turn(convo: Conversation, line: string, mode: 'say' | 'stream'): Promise<TurnResult & { streamed: string }> {
  if (mode === 'say') return { ...(await convo.say(line)), streamed: '' }
  const s = convo.stream(line)
  let streamed = ''
  for await (const d of s) streamed += d
  return { ...(await s.result), streamed }
}

/** Every place a player or a game could read text: the reply, the deltas, history and the save. */
function everythingSaid(convo: Conversation, r: TurnResult & { streamed: string }): string {
  return JSON.stringify([r.text, r.streamed, convo.history(), convo.snapshot()])
}

describe('streamed tool calls in fragments', () => {
  it('GLM with tool_stream: a call sent in fragments is merged by index and carried out', async () => {
    emulator().reply = keyModel()
    const convo = paid('glm-4.7-flash')
    const r = await turn(convo, '钥匙给我', 'stream')
    const [first, second] = emulator().chatRequests
    expect(first!.body).toMatchObject({ stream: true, tool_stream: true, thinking: { type: 'disabled' } })
    expect(r).toMatchObject({ kind: 'reply', text: KEY_LINE, actions: [{ name: 'give_key', args: { door: '七号仓库' }, status: 'done' }] })
    expect(second!.body.messages.at(-2).tool_calls).toHaveLength(1)
    expectValidGlmMessages(second!.body.messages)
  })

  it('the openai flavour (vLLM, OpenAI): fragments ending with tool_calls, usage because it was asked for', async () => {
    emulator().reply = keyModel()
    const convo = paid('glm-4.5-air', { baseUrl: emulator().openaiUrl })
    const r = await turn(convo, '钥匙给我', 'stream')
    const first = emulator().chatRequests[0]!
    expect(first.path).toBe('/v1/chat/completions')
    expect(first.body).toMatchObject({ stream: true, stream_options: { include_usage: true }, chat_template_kwargs: { enable_thinking: false } })
    expect(first.body.tool_stream).toBeUndefined()
    expect(r).toMatchObject({ kind: 'reply', text: KEY_LINE, actions: [{ name: 'give_key', status: 'done' }], usage: { prompt_tokens: expect.any(Number) } })
  })

  it.each(['say', 'stream'] as const)('GLM without tool_stream (%s): two whole calls, one per chunk, stay two calls', async (mode) => {
    emulator().reply = keyModel('{"door":"七号仓库"}', 2)
    const convo = paid('glm-4-flash')
    const r = await turn(convo, '钥匙给我', mode)
    expect(emulator().chatRequests[0]!.body.tool_stream).toBeUndefined()
    expect(r.actions).toEqual([
      { name: 'give_key', args: { door: '七号仓库' }, status: 'done' },
      { name: 'give_key', args: { door: '七号仓库' }, status: 'done' },
    ])
  })

  it('arguments that still do not parse once merged are refused as invalid, and the game is not asked', async () => {
    emulator().reply = keyModel('{"door":"七号')
    let asked = 0
    const convo = createConversation(courier(), { provider: provider({ baseUrl: emulator().openaiUrl }), actions: { handler: () => (asked++, { ok: true }) } })
    convo.give('silver')
    const r = await turn(convo, '钥匙给我', 'stream')
    expect(asked).toBe(0)
    expect(r.actions).toEqual([{ name: 'give_key', status: 'invalid', reason: 'the arguments of "give_key" are not JSON' }])
  })

  it.each(['say', 'stream'] as const)('an object where a JSON string is expected is accepted (%s)', async (mode) => {
    emulator().reply = keyModel({ door: '七号仓库' })
    const r = await turn(paid('glm-4.7'), '钥匙给我', mode)
    expect(r.actions).toEqual([{ name: 'give_key', args: { door: '七号仓库' }, status: 'done' }])
    const sent = emulator().chatRequests[1]!.body.messages.at(-2).tool_calls[0].function.arguments
    expect(sent).toBe('{"door":"七号仓库"}')
  })
})

interface Family {
  name: string
  model: string
  base: 'glm' | 'openai'
  server?: 'ollama'
  thinking?: boolean
  /** What the request must carry (and `absent`: what it must not). */
  shape: Record<string, unknown>
  absent: string[]
}

const FAMILIES: Family[] = [
  { name: 'glm-4-* (no thinking)', model: 'glm-4-flash-250414', base: 'glm', shape: {}, absent: ['thinking', 'reasoning_effort', 'chat_template_kwargs'] },
  { name: 'glm-4.5 … 5.1 (thinking off)', model: 'glm-4.7-flash', base: 'glm', shape: { thinking: { type: 'disabled' } }, absent: ['reasoning_effort'] },
  { name: 'glm-4.5 … 5.1 (thinking on, reasoning_content streamed)', model: 'glm-5.1', base: 'glm', thinking: true, shape: { thinking: { type: 'enabled' } }, absent: ['reasoning_effort'] },
  { name: 'glm-5.2+ (reasoning_effort none)', model: 'glm-5.2', base: 'glm', shape: { reasoning_effort: 'none' }, absent: ['thinking'] },
  { name: 'glm-5.3 (cannot disable: turned down, still reasons)', model: 'glm-5.3', base: 'glm', shape: { reasoning_effort: 'low' }, absent: ['thinking'] },
  { name: 'glm-z1-* (<think> in content)', model: 'glm-z1-flash', base: 'glm', shape: {}, absent: ['thinking', 'reasoning_effort'] },
  { name: 'Ollama (reasoning_effort none)', model: 'glm-4.5-air', base: 'openai', server: 'ollama', shape: { reasoning_effort: 'none' }, absent: ['chat_template_kwargs', 'thinking'] },
  { name: 'vLLM (enable_thinking false)', model: 'glm-4.5-air', base: 'openai', shape: { chat_template_kwargs: { enable_thinking: false } }, absent: ['thinking', 'reasoning_effort'] },
  { name: 'vLLM with thinking on (<think> in content)', model: 'glm-4.5-air', base: 'openai', thinking: true, shape: { chat_template_kwargs: { enable_thinking: true } }, absent: ['thinking'] },
]

describe('thinking per model family', () => {
  for (const f of FAMILIES) {
    it.each(['say', 'stream'] as const)(`${f.name}: the request asks what the family takes; no reasoning reaches the player (%s)`, async (mode) => {
      emulator().reply = () => ({ content: PLAIN_LINE })
      const edit = (y: string) => y.replace('glm-4-flash', f.model).replace('temperature: 0.7 }', `temperature: 0.7${f.thinking ? ', thinking: true' : ''} }`)
      const convo = createConversation(courier(edit), { provider: provider({ ...(f.base === 'openai' && { baseUrl: emulator().openaiUrl }), ...(f.server && { server: f.server }) }) })
      const r = await turn(convo, '你好', mode)
      expect(r).toMatchObject({ kind: 'reply', text: PLAIN_LINE })
      if (mode === 'stream') expect(r.streamed).toBe(PLAIN_LINE)
      const body = emulator().chatRequests[0]!.body
      expect(body).toMatchObject({ model: f.model, ...f.shape })
      for (const key of f.absent) expect(body).not.toHaveProperty(key)
      expect(everythingSaid(convo, r)).not.toContain('推理')
      expect(everythingSaid(convo, r)).not.toContain('think>')
      // The next request carries the reply, never the reasoning behind it.
      await turn(convo, '再说一遍', mode)
      expect(emulator().chatRequests[1]!.raw).not.toContain(DEFAULT_REASONING)
    })
  }

  it('the emulator would have reasoned: a regression that stops turning thinking off is seen', async () => {
    const raw = await fetch(`${emulator().url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator().apiKey}` },
      body: JSON.stringify({ model: 'glm-4.7-flash', messages: [{ role: 'user', content: '你好' }] }),
    }).then((res) => res.json() as Promise<any>)
    expect(raw.choices[0].message.reasoning_content).toBe(DEFAULT_REASONING)
  })

  it('thinking with tools: the reasoning goes back with the tool results within the turn, and is dropped when it ends', async () => {
    emulator().reply = keyModel()
    const convo = paid('glm-4.7', {}, (y) => y.replace('temperature: 0.7 }', 'temperature: 0.7, thinking: true }'))
    const r = await turn(convo, '钥匙给我', 'stream')
    expect(r.text).toBe(KEY_LINE)
    const withResults = emulator().chatRequests[1]!.body.messages
    expect(withResults.at(-2)).toMatchObject({ role: 'assistant', reasoning_content: TOOL_REASONING, tool_calls: [{ function: { name: 'give_key' } }] })
    expect(JSON.stringify(convo.history())).not.toContain('推理')
    await turn(convo, '谢谢', 'stream')
    expect(emulator().chatRequests[2]!.raw).not.toContain('推理')
  })
})

describe('timeouts for thinking models', () => {
  it('a non-streamed call that will think waits longer, and is not sent again after a timeout', async () => {
    emulator().faultWith(() => ({ delayMs: 700 }))
    const convo = createConversation(courier((y) => y.replace('glm-4-flash', 'glm-z1-air')), { provider: provider({ timeoutMs: 100, thinkingTimeoutMs: 300 }) })
    const r = await convo.say('你好')
    expect(r).toMatchObject({ kind: 'fallback', error: { code: 'timeout' } })
    expect(emulator().chatRequests).toHaveLength(1)
  })

  it('a model that does not think keeps the short timeout and its retries', async () => {
    emulator().fault({ delayMs: 700 })
    const convo = createConversation(courier(), { provider: provider({ timeoutMs: 300, thinkingTimeoutMs: 5000 }) })
    const r = await convo.say('你好')
    expect(r.kind).toBe('reply')
    expect(emulator().chatRequests).toHaveLength(2)
  })
})

/** A courier with some history, paid (so a fact is unlocked), ready to overflow. */
async function seasoned(model: string): Promise<Conversation> {
  const convo = createConversation(courier((y) => y.replace('glm-4-flash', model)), { provider: provider() })
  convo.give('silver')
  for (let i = 0; i < 8; i++) await convo.say(`第${i}句：港口今天有什么新鲜事吗？`)
  emulator().reset()
  return convo
}

const promptTokens = (req: RecordedRequest) => (req.body.messages as Array<{ content: string }>).reduce((n, m) => n + estimateTokens(m.content), 0)

describe('context overflow', () => {
  it.each([
    ['model_context_window_exceeded (HTTP 200, glm-4.7)', 'glm-4.7-flash', 'say'],
    ['model_context_window_exceeded (HTTP 200, glm-4.7), streamed', 'glm-4.7-flash', 'stream'],
    ['400 / 1261 (glm-4)', 'glm-4-flash', 'say'],
  ] as const)('%s: one retry with the history window halved, answered', async (_name, model, mode) => {
    const convo = await seasoned(model)
    const before = convo.history()
    const full = convo.messages('仓库在哪？')
    emulator().options.contextTokens = full.reduce((n, m) => n + estimateTokens(m.content), 0) - 1
    try {
      const r = await turn(convo, '仓库在哪？', mode)
      expect(r).toMatchObject({ kind: 'reply', contextTrimmed: true })
      const [tooBig, halved] = emulator().chatRequests
      expect(emulator().chatRequests).toHaveLength(2)
      expect(promptTokens(halved!)).toBeLessThan(promptTokens(tooBig!))
      const system = halved!.body.messages[0].content as string
      expect(system).toContain('你是港口的信使')
      expect(system).toContain('走私的货藏在七号仓库。')
      expect(halved!.body.messages.some((m: { content: string }) => m.content === '你是谁？')).toBe(false)
      expectValidGlmMessages(halved!.body.messages)
      // History is whole: only that one request was cut down.
      expect(convo.history()).toEqual([...before, { role: 'user', content: '仓库在哪？' }, { role: 'assistant', content: r.text }])
    } finally {
      emulator().options.contextTokens = undefined
    }
  })

  it('an overflow that persists: one retry, then the fallback line with a non-retryable context_exceeded', async () => {
    const convo = await seasoned('glm-4.7-flash')
    const before = convo.history()
    emulator().faultWith(() => ({ overflow: true }))
    const r = await convo.say('仓库在哪？')
    expect(r).toMatchObject({ kind: 'fallback', error: { code: 'context_exceeded', retryable: false } })
    expect(emulator().chatRequests).toHaveLength(2)
    expect(convo.history()).toEqual(before)
  })
})

async function streamEvents(stream: AsyncIterable<ChatStreamEvent>) {
  const events: ChatStreamEvent[] = []
  try {
    for await (const e of stream) events.push(e)
  } catch (error) {
    return { events, error: error as { kind: string; glmCode?: string; retryable: boolean } }
  }
  return { events, error: undefined }
}

describe('business codes', () => {
  const client = () => createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url, retry: { baseDelayMs: 1 } })
  const hi = { model: 'glm-4-flash', messages: [{ role: 'user' as const, content: '你好' }] }

  it('a code mid-stream is retryable only if the code is: 1301 is not, 1305 is', async () => {
    emulator().fault({ streamError: { code: '1301', message: '系统检测到输入或生成内容可能包含不安全或敏感内容', afterChunks: 1 } })
    expect((await streamEvents(client().chatStream(hi))).error).toMatchObject({ kind: 'stream_error', glmCode: '1301', retryable: false })
    emulator().fault({ streamError: { code: '1305', message: '该模型当前访问量过大，请您稍后再试', afterChunks: 1 } })
    expect((await streamEvents(client().chatStream(hi))).error).toMatchObject({ kind: 'stream_error', glmCode: '1305', retryable: true })
  })

  it('1261 mid-stream is context_exceeded too', async () => {
    emulator().fault({ streamError: { code: '1261', message: 'Prompt exceeds max length' } })
    expect((await streamEvents(client().chatStream(hi))).error).toMatchObject({ kind: 'context_exceeded', retryable: false })
  })

  it('1231 (a request with this id exists) is retried once, with a fresh request_id', async () => {
    emulator().fault({ status: 400, code: '1231', message: '您已有请求' })
    const r = await client().chat(hi)
    expect(r.content).toBe('echo: 你好')
    const ids = emulator().chatRequests.map((q) => q.body.request_id)
    expect(ids).toHaveLength(2)
    expect(ids[0]).not.toBe(ids[1])
    expect(r.requestId).toBe(ids[1])
    emulator().reset()
    emulator().fault({ status: 400, code: '1231' }, { status: 400, code: '1231' })
    await expect(client().chat(hi)).rejects.toMatchObject({ glmCode: '1231', retryable: false })
    expect(emulator().chatRequests).toHaveLength(2)
  })

  it('asks for usage in streams only where it would be missing', async () => {
    const onGlm = createConversation(courier(), { provider: provider() })
    const r1 = await turn(onGlm, '你好', 'stream')
    expect(emulator().chatRequests[0]!.body.stream_options).toBeUndefined()
    expect(r1.usage?.total_tokens).toBeGreaterThan(0)
    const onOllama = createConversation(courier(), { provider: provider({ baseUrl: emulator().openaiUrl, server: 'ollama' }) })
    const r2 = await turn(onOllama, '你好', 'stream')
    expect(emulator().chatRequests[1]!.body.stream_options).toEqual({ include_usage: true })
    expect(r2.usage?.total_tokens).toBeGreaterThan(0)
  })
})

describe('the player as GLM\'s end user', () => {
  it('sends user_id when the game names the player (user on OpenAI-compatible servers)', async () => {
    await createConversation(courier(), { provider: provider(), userId: 'player-000123' }).say('你好')
    expect(emulator().chatRequests[0]!.body.user_id).toBe('player-000123')
    await createConversation(courier(), { provider: provider({ baseUrl: emulator().openaiUrl }), userId: 'player-000123' }).say('你好')
    expect(emulator().chatRequests[1]!.body).toMatchObject({ user: 'player-000123' })
    await createConversation(courier(), { provider: provider() }).say('你好')
    expect(emulator().chatRequests[2]!.body).not.toHaveProperty('user_id')
  })

  it('refuses a user id GLM would reject (6–128 characters)', () => {
    for (const bad of ['abc', 'x'.repeat(129)]) {
      let error: unknown
      try {
        createConversation(courier(), { provider: provider(), userId: bad })
      } catch (e) {
        error = e
      }
      expect(isParleyError(error) && error.code).toBe('invalid_argument')
    }
  })
})

describe('lore never costs a turn', () => {
  const dirs: string[] = []
  function lored(): { convo: Conversation; npc: Npc; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), 'parley-lore-2026-'))
    dirs.push(dir)
    const npc = courier()
    const client = createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url, retry: { baseDelayMs: 1 } })
    const convo = createConversation(npc, { provider: provider(), lore: { embeddings: { client, cache: new DiskEmbeddingCache(dir) } } })
    return { convo, npc, dir }
  }
  const cleanup = () => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }))
  const QUESTION = '灯塔的看守是什么样的人？'

  it.each([
    ['500', { status: 500, code: '500' }, 'embeddings_failed'],
    ['429 / 1113 (balance) while chat works', { status: 429, code: '1113' }, 'embeddings_failed'],
    ['8 s slow', { delayMs: 8000 }, 'embeddings_slow'],
  ] as const)('embeddings %s: the reply comes with BM25\'s lore, not the fallback line, and says why', async (_name, fault, reason) => {
    try {
      const { convo } = lored()
      emulator().embeddingFaultWith(() => fault)
      const started = Date.now()
      const r = await convo.say(QUESTION)
      expect(Date.now() - started).toBeLessThan(5000)
      expect(r).toMatchObject({ kind: 'reply', text: `echo: ${QUESTION}`, loreFallback: { reason } })
      if ('code' in fault && fault.code === '1113') expect(r.loreFallback!.message).toContain('1113')
      expect(convo.lastLore()).toContain('lighthouse#0')
      expect(emulator().chatRequests[0]!.body.messages[0].content).toContain('独眼老人')
    } finally {
      emulator().embeddingFaultWith(undefined)
      cleanup()
    }
  })

  it('healthy embeddings: hybrid lore, no fallback; a line is embedded once, and never written to disk', async () => {
    try {
      const { convo, dir, npc } = lored()
      const first = await convo.say(QUESTION)
      // The first turn may find the lore chunks not embedded yet (they then arrive in the background).
      expect(first.kind).toBe('reply')
      const second = await convo.say('码头的酒馆叫什么？')
      expect(second.loreFallback).toBeUndefined()
      expect(convo.lastLore()).toContain('tavern#0')
      // Another conversation asking the same line (a retry, a second player) costs no second embedding.
      const queriesBefore = emulator().embeddingRequests.filter((r) => typeof r.body.input === 'string').length
      const again = await lored().convo.say(QUESTION)
      expect(again.loreFallback).toBeUndefined()
      expect(emulator().embeddingRequests.filter((r) => typeof r.body.input === 'string')).toHaveLength(queriesBefore)
      // On disk: one file per lore chunk, none for the players' lines.
      expect(readdirSync(join(dir, 'embedding-3-512'))).toHaveLength(npc.lore!.sources.length)
    } finally {
      cleanup()
    }
  })

  it('a lore keyword in the line: no embeddings asked for, the keyword\'s entry first', async () => {
    try {
      const { convo } = lored()
      const r = await convo.say('退潮的时候能看到什么？')
      expect(r.kind).toBe('reply')
      expect(emulator().embeddingRequests).toHaveLength(0)
      expect(convo.lastLore()[0]).toBe('tide#0')
    } finally {
      cleanup()
    }
  })
})
