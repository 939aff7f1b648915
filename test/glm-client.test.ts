import { describe, expect, it } from 'vitest'
import { createGlmClient, GlmError, type ChatStreamEvent, type GlmClientOptions } from '@parley/engine'
import { embedTexts, signGlmJwt } from '@parley/engine/unstable'
import { startGlmEmulator } from './glm-emulator/emulator.ts'
import { useEmulator } from './helpers/emulator.ts'
import { freePort } from './helpers/net.ts'
import { glmFailure } from './helpers/glm-failure.ts'

const emulator = useEmulator()

const client = (options: Partial<GlmClientOptions> = {}) =>
  createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url, retry: { baseDelayMs: 5 }, timeoutMs: 2000, ...options })
const hi = { model: 'glm-4-flash', messages: [{ role: 'user' as const, content: '你好' }] }

async function collect(stream: AsyncIterable<ChatStreamEvent>) {
  const events: ChatStreamEvent[] = []
  for await (const e of stream) events.push(e)
  return events
}


describe('chat completion', () => {
  it('returns the reply, finish reason, usage and request id', async () => {
    const r = await client().chat(hi)
    expect(r.content).toBe('echo: 你好')
    expect(r.finishReason).toBe('stop')
    expect(r.usage?.prompt_tokens).toBeGreaterThan(0)
    expect(r.requestId).toMatch(/^parley-/)
    expect(emulator().chatRequests[0]!.headers.authorization).toBe(`Bearer ${emulator().apiKey}`)
  })

  it('keeps reasoning apart from the spoken line', async () => {
    emulator().reply = () => ({ content: 'Hi.', reasoning: 'The user greets me.' })
    const r = await client().chat({ ...hi, model: 'glm-4.7-flash' })
    expect(r.content).toBe('Hi.')
    expect(r.reasoningContent).toBe('The user greets me.')
  })

  it('maps temperature 0 and 1 the way the official SDK does, which the stricter service accepts', async () => {
    await client().chat({ ...hi, temperature: 0, top_p: 1 })
    expect(emulator().chatRequests[0]!.body).toMatchObject({ temperature: 0.01, do_sample: false, top_p: 0.99 })
  })
})

describe('validation before sending', () => {
  it.each([
    ['only a system message', { model: 'glm-4', messages: [{ role: 'system', content: 'x' }] }, /user message/],
    ['an unknown role', { model: 'glm-4', messages: [{ role: 'npc', content: 'x' }] }, /role "npc"/],
    ['empty content', { model: 'glm-4', messages: [{ role: 'user', content: '  ' }] }, /empty/],
    ['content of only line breaks and full-width spaces', { model: 'glm-4', messages: [{ role: 'user', content: '\n\u3000\t ' }] }, /empty/],
    ['no content at all', { model: 'glm-4', messages: [{ role: 'user', content: '' }] }, /empty/],
    ['temperature above 1', { ...hi, temperature: 1.5 }, /temperature/],
    ['top_p below 0', { ...hi, top_p: -0.1 }, /top_p/],
    ['two stop words', { ...hi, stop: ['a', 'b'] }, /one stop word/],
    ['a system message after the first', { model: 'glm-4', messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 'b' }, { role: 'user', content: 'c' }] }, /only the first/],
    ['ending on the assistant', { model: 'glm-4', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] }, /last message/],
  ])('refuses %s without a round trip', async (_name, request, message) => {
    const error = await glmFailure(client().chat(request as never))
    expect(error.kind).toBe('invalid_request')
    expect(error.message).toMatch(message)
    expect(emulator().requests).toHaveLength(0)
  })
})

describe('errors and retries', () => {
  it('retries a 429 with a rate-limit code and succeeds, with one request id across attempts', async () => {
    emulator().fault({ status: 429, code: '1302' }, { status: 429, code: '1305' })
    const retries: number[] = []
    const r = await client().chat(hi, { onRetry: (i) => retries.push(i.attempt) })
    expect(r.content).toBe('echo: 你好')
    expect(retries).toEqual([1, 2])
    const ids = emulator().chatRequests.map((q) => q.body.request_id)
    expect(ids).toHaveLength(3)
    expect(new Set(ids).size).toBe(1)
  })

  it('never retries 1113 (balance exhausted) although it arrives as a 429', async () => {
    emulator().fault({ status: 429, code: '1113' })
    const error = await glmFailure(client().chat(hi))
    expect(error).toMatchObject({ kind: 'http', status: 429, glmCode: '1113', retryable: false })
    expect(error.message).toContain('余额不足')
    expect(emulator().chatRequests).toHaveLength(1)
  })

  it('never retries an auth failure, and reports GLM\'s code', async () => {
    const error = await glmFailure(client({ apiKey: 'wrong' }).chat(hi))
    expect(error).toMatchObject({ status: 401, glmCode: '1002', retryable: false })
    expect(emulator().chatRequests).toHaveLength(1)
  })

  it('honours Retry-After', async () => {
    emulator().fault({ status: 503, code: '500', retryAfter: 1 })
    const started = Date.now()
    await client().chat(hi)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })

  it('gives up after the retry limit with the last error', async () => {
    emulator().fault(...Array.from({ length: 5 }, () => ({ status: 500, code: '500' })))
    const error = await glmFailure(client({ retry: { limit: 2, baseDelayMs: 1 } }).chat(hi))
    expect(error).toMatchObject({ status: 500, retryable: true })
    expect(emulator().chatRequests).toHaveLength(3)
  })

  it('retries a connection reset', async () => {
    emulator().fault({ reset: true })
    expect((await client().chat(hi)).content).toBe('echo: 你好')
  })

  it('reports a refused connection as a network error', async () => {
    const port = await freePort()
    const error = await glmFailure(client({ baseUrl: `http://127.0.0.1:${port}/v4`, retry: { limit: 1, baseDelayMs: 1 } }).chat(hi))
    expect(error).toMatchObject({ kind: 'network', retryable: true })
  })

  it('reports a redirecting base URL as an HTTP error with its status, never following it', async () => {
    const { createServer } = await import('node:http')
    const followed: string[] = []
    const server = createServer((req, res) => {
      if (req.url!.startsWith('/moved')) {
        followed.push(req.url!)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
        return
      }
      req.resume()
      res.writeHead(307, { location: '/moved' }).end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const { port } = server.address() as { port: number }
      const error = await glmFailure(client({ baseUrl: `http://127.0.0.1:${port}/v4` }).chat(hi))
      expect(error).toMatchObject({ kind: 'http', status: 307, retryable: false })
      expect(followed).toEqual([])
    } finally {
      server.close()
    }
  })

  it('times out a slow first byte per attempt, then retries', async () => {
    emulator().fault({ delayMs: 1500 })
    const r = await client({ timeoutMs: 500 }).chat(hi)
    expect(r.content).toBe('echo: 你好')
    expect(emulator().chatRequests).toHaveLength(2)
  })

  it('cancels on an AbortSignal and does not retry', async () => {
    emulator().fault({ delayMs: 500 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const error = await glmFailure(client().chat(hi, { signal: controller.signal }))
    expect(error.kind).toBe('aborted')
  })

  it('one signal lent to many calls and streams is left with no listeners, and aborting it later harms none of their results', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const controller = new AbortController()
      const c = client()
      const replies = []
      for (let i = 0; i < 25; i++) {
        replies.push((await c.chat(hi, { signal: controller.signal })).content)
        let text = ''
        for await (const e of c.chatStream(hi, { signal: controller.signal })) if (e.type === 'finish') text = e.text
        replies.push(text)
      }
      controller.abort()
      await new Promise((resolve) => setImmediate(resolve))
      expect(replies).toEqual(Array(50).fill('echo: 你好'))
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('the emulator rejects the seed\'s only-system list with 400/1214, as GLM does', async () => {
    const res = await fetch(`${emulator().url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator().apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-4', messages: [{ role: 'system', content: '你现在是一个赛博朋克世界的游戏NPC' }] }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { code: '1214', message: 'messages 参数非法。请检查文档。' } })
  })

  it('the emulator rejects temperature 1 and an unknown model like the GLM-4-era service', async () => {
    const post = (body: unknown) =>
      fetch(`${emulator().url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${emulator().apiKey}` }, body: JSON.stringify(body) }).then(async (r) => [r.status, ((await r.json()) as any).error.code])
    expect(await post({ ...hi, temperature: 1 })).toEqual([400, '1214'])
    expect(await post({ ...hi, model: 'gpt-4' })).toEqual([400, '1211'])
    expect(await post({ model: 'glm-4' })).toEqual([400, '1213'])
  })
})

describe('streaming', () => {
  it('yields deltas, then finish with usage, ending on [DONE]', async () => {
    emulator().reply = () => '想买点情报吗，陌生人？'
    const events = await collect(client().chatStream(hi))
    const text = events.filter((e) => e.type === 'delta').map((e) => (e as { content: string }).content).join('')
    expect(text).toBe('想买点情报吗，陌生人？')
    expect(events.filter((e) => e.type === 'delta').length).toBeGreaterThan(1)
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', text, usage: { completion_tokens: expect.any(Number) } })
  })

  it('reports sensitive and length finish reasons from the last chunk', async () => {
    emulator().fault({ finishReason: 'sensitive' })
    expect((await collect(client().chatStream(hi))).at(-1)).toMatchObject({ finishReason: 'sensitive' })
    emulator().fault({ finishReason: 'length' })
    expect((await collect(client().chatStream(hi))).at(-1)).toMatchObject({ finishReason: 'length' })
  })

  it('raises stream_interrupted, keeping the partial text, when the stream is cut before [DONE]', async () => {
    emulator().reply = () => 'abcdefghijklmnop'
    emulator().fault({ cutAfterChunks: 2 })
    const error = await glmFailure(collect(client().chatStream(hi)))
    expect(error.kind).toBe('stream_interrupted')
    expect(error.partialText).toBe('abcdefgh')
  })

  it('raises stream_interrupted on a malformed chunk', async () => {
    emulator().fault({ malformedAfterChunks: 1 })
    const error = await glmFailure(collect(client().chatStream(hi)))
    expect(error.kind).toBe('stream_interrupted')
    expect(error.partialText).toBe('echo')
  })

  it('raises the GLM code of an error object inside the stream', async () => {
    emulator().fault({ streamError: { code: '1301', message: '系统检测到输入或生成内容可能包含不安全或敏感内容', afterChunks: 1 } })
    const error = await glmFailure(collect(client().chatStream(hi)))
    expect(error).toMatchObject({ kind: 'stream_error', glmCode: '1301', partialText: 'echo' })
  })

  it('cancels mid-stream on an AbortSignal', async () => {
    const slow = await startGlmEmulator({ chunkDelayMs: 30, chunkSize: 1 })
    try {
      slow.reply = () => 'x'.repeat(100)
      const controller = new AbortController()
      const c = createGlmClient({ apiKey: slow.apiKey, baseUrl: slow.url })
      let received = 0
      const error = await glmFailure(
        (async () => {
          for await (const e of c.chatStream(hi, { signal: controller.signal })) {
            if (e.type === 'delta' && ++received === 3) controller.abort()
          }
        })(),
      )
      expect(error.kind).toBe('aborted')
      expect(received).toBe(3)
    } finally {
      await slow.close()
    }
  })

  it('retries before the first byte: a 503 then a good stream', async () => {
    emulator().fault({ status: 503, code: '1305' })
    const events = await collect(client().chatStream(hi))
    expect(events.at(-1)).toMatchObject({ type: 'finish', text: 'echo: 你好' })
  })

  it('passes tool calls through from a stream', async () => {
    emulator().reply = () => ({ content: '', toolCalls: [{ name: 'give_map', arguments: '{"to":"player"}' }] })
    const events = await collect(client().chatStream(hi))
    expect(events.find((e) => e.type === 'tool_calls')).toMatchObject({ toolCalls: [{ function: { name: 'give_map', arguments: '{"to":"player"}' } }] })
    expect(events.at(-1)).toMatchObject({ finishReason: 'tool_calls' })
  })
})

describe('auth', () => {
  it('signs an SDK-style JWT (ms timestamps, sign_type SIGN) that the emulator verifies', async () => {
    const jwtEmu = await startGlmEmulator({ apiKey: 'abc123.s3cret' })
    try {
      const c = createGlmClient({ apiKey: 'abc123.s3cret', auth: 'jwt', baseUrl: jwtEmu.url })
      expect((await c.chat(hi)).content).toBe('echo: 你好')
      const token = String(jwtEmu.chatRequests[0]!.headers.authorization).replace('Bearer ', '')
      const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()))
      expect(header).toEqual({ alg: 'HS256', sign_type: 'SIGN' })
      expect(payload.api_key).toBe('abc123')
      expect(payload.exp - payload.timestamp).toBe(210_000)
      expect(payload.timestamp).toBeGreaterThan(1e12)
    } finally {
      await jwtEmu.close()
    }
  })

  it('on 1003 (token expired) signs a fresh JWT and retries once', async () => {
    const jwtEmu = await startGlmEmulator({ apiKey: 'abc123.s3cret' })
    try {
      jwtEmu.fault({ status: 401, code: '1003', message: 'Authorization Token已过期，请重新生成/获取。' })
      const c = createGlmClient({ apiKey: 'abc123.s3cret', auth: 'jwt', baseUrl: jwtEmu.url, retry: { baseDelayMs: 1 } })
      expect((await c.chat(hi)).content).toBe('echo: 你好')
      expect(jwtEmu.chatRequests).toHaveLength(2)
      jwtEmu.fault({ status: 401, code: '1003' }, { status: 401, code: '1003' })
      expect(await glmFailure(c.chat(hi))).toMatchObject({ status: 401, glmCode: '1003' })
    } finally {
      await jwtEmu.close()
    }
  })

  it('an expired JWT gets 401 with code 1003', async () => {
    const jwtEmu = await startGlmEmulator({ apiKey: 'abc123.s3cret' })
    try {
      const token = await signGlmJwt('abc123.s3cret', 1000, Date.now() - 60_000)
      const c = createGlmClient({ apiKey: 'unused', baseUrl: jwtEmu.url, headers: { authorization: `Bearer ${token}` } })
      expect(await glmFailure(c.chat(hi))).toMatchObject({ status: 401, glmCode: '1003' })
    } finally {
      await jwtEmu.close()
    }
  })
})

describe('OpenAI-compatible bases (Ollama, vLLM)', () => {
  it('talks to /v1 and reads the OpenAI error shape (code null)', async () => {
    const c = createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().openaiUrl })
    expect((await c.chat(hi)).content).toBe('echo: 你好')
    const error = await glmFailure(c.chat({ ...hi, model: 'llama3' }))
    expect(error).toMatchObject({ status: 400, glmCode: undefined, message: '模型不存在，请检查模型代码。' })
  })

  it('reads the older function_call finish reason (THUDM\'s GLM-4 demo server)', async () => {
    const legacy = await startGlmEmulator({ flavor: 'openai', legacyFunctionCall: true, reply: () => ({ content: '', toolCalls: [{ name: 'x', arguments: '{}' }] }) })
    try {
      const c = createGlmClient({ apiKey: legacy.apiKey, baseUrl: legacy.openaiUrl })
      const r = await c.chat(hi)
      expect(r.finishReason).toBe('function_call')
      expect(r.toolCalls).toMatchObject([{ function: { name: 'x', arguments: '{}' } }])
    } finally {
      await legacy.close()
    }
  })
})

describe('embeddings', () => {
  it('embedding-3 honours dimensions; embedding-2 is 1024', async () => {
    const three = await client().embeddings({ model: 'embedding-3', input: ['山庄', '废墟'], dimensions: 256 })
    expect(three.data.map((d) => d.embedding.length)).toEqual([256, 256])
    const two = await client().embeddings({ model: 'embedding-2', input: '山庄' })
    expect(two.data[0]!.embedding).toHaveLength(1024)
  })

  it('the emulator refuses a dimension embedding-3 does not offer', async () => {
    const error = await glmFailure(client().embeddings({ model: 'embedding-3', input: 'x', dimensions: 300 as 256 }))
    expect(error).toMatchObject({ status: 400, glmCode: '1214' })
  })
})

describe('the emulator as the service is in 2026 (glm-api.md §8)', () => {
  const post = (path: string, body: unknown) =>
    fetch(`${emulator().url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${emulator().apiKey}` }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, text: await r.text() }))
  const user = [{ role: 'user', content: '你好' }]

  it('knows the 2026 models, and ranges per family: [0,1], top_p from 0.01, max_tokens to 131072 for 4.5+', async () => {
    for (const model of ['glm-4-flash-250414', 'glm-4.7', 'glm-5-turbo', 'glm-5.3', 'glm-z1-air']) expect((await post('/chat/completions', { model, messages: user })).status).toBe(200)
    expect((await post('/chat/completions', { model: 'glm-4.7', messages: user, temperature: 1, top_p: 0.01, max_tokens: 131072 })).status).toBe(200)
    expect((await post('/chat/completions', { model: 'glm-4.7', messages: user, top_p: 0 })).status).toBe(400)
    expect((await post('/chat/completions', { model: 'glm-4.7', messages: user, max_tokens: 131073 })).status).toBe(400)
    expect((await post('/chat/completions', { model: 'glm-4-flash', messages: user, max_tokens: 131072 })).status).toBe(400)
  })

  it('the openai flavour sends usage in a stream only when stream_options asks', async () => {
    const stream = (extra: object) =>
      fetch(`${emulator().openaiUrl}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${emulator().apiKey}` }, body: JSON.stringify({ model: 'glm-4', messages: user, stream: true, ...extra }) }).then((r) => r.text())
    expect(await stream({})).not.toContain('"usage"')
    expect(await stream({ stream_options: { include_usage: true } })).toContain('"usage"')
  })

  it('checks embedding token limits per model; the client cuts a long input to fit', async () => {
    const long = '港'.repeat(600)
    const refused = await post('/embeddings', { model: 'embedding-2', input: long })
    expect(refused.status).toBe(400)
    expect(JSON.parse(refused.text).error.code).toBe('1214')
    expect((await post('/embeddings', { model: 'embedding-3', input: long })).status).toBe(200)
    const { vectors } = await embedTexts([long], { client: client(), model: 'embedding-2' })
    expect(vectors[0]).toHaveLength(1024)
  })
})
