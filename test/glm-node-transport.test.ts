import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createRawServer, type Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createGlmClient, GlmError } from '@parley/engine'
import { useEmulator } from './helpers/emulator.ts'
import { glmFailure } from './helpers/glm-failure.ts'

/**
 * On Node, buffered calls (chat, embeddings) go out through node:http with a keep-alive agent
 * instead of fetch (glm/node-http.ts). These pin what the client must still do as it did through
 * fetch: one connection kept for the next call, compressed bodies read, cancellation and cut-off
 * bodies reported as what they are, and a connection the server dropped while idle not turned
 * into a failed turn.
 */
const emulator = useEmulator()
const hi = { model: 'glm-4-flash', messages: [{ role: 'user' as const, content: '你好' }] }
const completion = (content: string) => JSON.stringify({ id: 'c1', model: 'glm-4-flash', created: 1, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })

let servers: Server[] = []
afterEach(() => {
  for (const s of servers) s.close()
  servers = []
  vi.restoreAllMocks()
})

/** A bare HTTP server that counts the connections clients open to it. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, socket: Socket, nth: number) => void): Promise<{ url: string; connections: () => number }> {
  let connections = 0
  let requests = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => handler(req, res, req.socket, ++requests))
  })
  server.on('connection', () => connections++)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/v4`, connections: () => connections }
}

/** A server that answers every request with the same raw bytes: for answers node:http's server would never write. */
async function rawServe(answer: string | Buffer): Promise<{ url: string; requests: () => number }> {
  let requests = 0
  const server = createRawServer((socket) => {
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (data) => {
      head += data.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      head = ''
      requests++
      socket.end(answer)
    })
  })
  rawServers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v4`, requests: () => requests }
}
let rawServers: Array<ReturnType<typeof createRawServer>> = []
afterEach(() => {
  for (const s of rawServers) s.close()
  rawServers = []
})


describe('the GLM client on Node', () => {
  it('sends chat and embeddings without fetch, and streams with it', async () => {
    // undici's fetch marks every request it sends with sec-fetch-mode; node:http sends no such header.
    const client = createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url })
    expect((await client.chat(hi)).content).toBe('echo: 你好')
    expect((await client.embeddings({ model: 'embedding-3', input: ['霓虹'] })).data).toHaveLength(1)
    for await (const event of client.chatStream(hi)) if (event.type === 'finish') expect(event.text).toBe('echo: 你好')
    expect(emulator().requests.map((r) => r.headers['sec-fetch-mode'])).toEqual([undefined, undefined, 'cors'])
  })

  it('a buffered call names its client and asks for a compressed answer, as fetch did', async () => {
    await createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url }).chat(hi)
    expect(emulator().requests[0]!.headers).toMatchObject({ 'user-agent': 'node', accept: '*/*', 'accept-encoding': expect.stringContaining('gzip') })
  })

  it('a fetch stubbed after the engine loaded sees every call, as it did before node:http', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch')
    const client = createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url })
    await client.chat(hi)
    await client.embeddings({ model: 'embedding-3', input: '霓虹' })
    expect(fetchSpy).toHaveBeenCalledTimes(2)
  })

  it('a process that routes fetch through its own dispatcher (a proxy, a mock) has every call go through it', async () => {
    const key = Symbol.for('undici.globalDispatcher.1')
    const global = globalThis as Record<symbol, unknown>
    // Node installs its own dispatcher on the first fetch; the test's proxy hands each call on to it.
    await fetch(emulator().url).catch(() => undefined)
    const nodes = global[key] as { dispatch(options: { path: string }, handler: unknown): boolean }
    const proxied: string[] = []
    class ProxyAgent {
      dispatch(options: { path: string }, handler: unknown) {
        proxied.push(options.path)
        return nodes.dispatch(options, handler)
      }
    }
    global[key] = new ProxyAgent()
    try {
      const client = createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url })
      await client.chat(hi)
      await client.embeddings({ model: 'embedding-3', input: '霓虹' })
    } finally {
      global[key] = nodes
    }
    expect(proxied).toEqual(['/api/paas/v4/chat/completions', '/api/paas/v4/embeddings'])
  })

  it('uses the fetch it is given for every call', async () => {
    const given = vi.fn((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init))
    const client = createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url, fetch: given })
    await client.chat(hi)
    await client.embeddings({ model: 'embedding-3', input: '霓虹' })
    expect(given).toHaveBeenCalledTimes(2)
  })

  it('keeps one connection for call after call', async () => {
    const server = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(completion('again')))
    const client = createGlmClient({ apiKey: 'k', baseUrl: server.url })
    for (let i = 0; i < 5; i++) expect((await client.chat(hi)).content).toBe('again')
    expect(server.connections()).toBe(1)
  })

  it('reads a gzip-compressed answer', async () => {
    const server = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(completion('压缩了'))))
    expect((await createGlmClient({ apiKey: 'k', baseUrl: server.url }).chat(hi)).content).toBe('压缩了')
  })

  it('sends the call again on a fresh connection when the server dropped the kept one as it was reused', async () => {
    const server = await serve((_req, res, socket, nth) => {
      // The second request arrives on the kept connection: the server drops it unanswered.
      if (nth === 2) socket.destroy()
      else res.writeHead(200, { 'content-type': 'application/json' }).end(completion(`answer ${nth}`))
    })
    const client = createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { limit: 0 } })
    expect((await client.chat(hi)).content).toBe('answer 1')
    expect((await client.chat(hi)).content).toBe('answer 3')
    expect(server.connections()).toBe(2)
  })

  it('a thinking call (retryOnTimeout: false) cut on a kept connection is not sent again: the server may be answering it', async () => {
    // A proxy that cuts a long wait looks, to the client, like a server that closed the idle connection.
    let requests = 0
    const server = await serve((_req, res, socket, nth) => {
      requests = nth
      if (nth === 2) socket.destroy()
      else res.writeHead(200, { 'content-type': 'application/json' }).end(completion(`answer ${nth}`))
    })
    const client = createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { limit: 0 } })
    await client.chat(hi)
    const error = await glmFailure(client.chat(hi, { retryOnTimeout: false }))
    expect(error).toMatchObject({ kind: 'network' })
    expect(requests).toBe(2)
  })

  it('a fresh connection dropped before any answer is a network error that ky retries, as through fetch', async () => {
    const server = await serve((_req, res, socket, nth) => {
      if (nth === 1) socket.destroy()
      else res.writeHead(200, { 'content-type': 'application/json' }).end(completion('second try'))
    })
    const onRetry = vi.fn()
    const r = await createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { baseDelayMs: 1 } }).chat(hi, { onRetry })
    expect(r.content).toBe('second try')
    expect(onRetry).toHaveBeenCalledWith(expect.objectContaining({ attempt: 1, error: expect.objectContaining({ kind: 'network' }) }))
  })

  it('a body cut off midway is a network failure, not a malformed answer', async () => {
    const server = await serve((_req, res, socket) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' })
      res.write(completion('half').slice(0, 40), () => socket.destroy())
    })
    const error = await glmFailure(createGlmClient({ apiKey: 'k', baseUrl: server.url }).chat(hi))
    expect(error).toMatchObject({ kind: 'network', retryable: true })
  })

  it('cancelling while the body is read ends the call as aborted', async () => {
    const controller = new AbortController()
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' })
      res.write('{"id":"c1",', () => setTimeout(() => controller.abort(), 20))
    })
    const error = await glmFailure(createGlmClient({ apiKey: 'k', baseUrl: server.url }).chat(hi, { signal: controller.signal }))
    expect(error.kind).toBe('aborted')
  })

  it('an answer whose body stalls ends as a timeout after the idle limit, not a hung turn', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' })
      res.write('{"id":"c1",')
    })
    const error = await glmFailure(createGlmClient({ apiKey: 'k', baseUrl: server.url, streamIdleTimeoutMs: 200 }).chat(hi))
    expect(error).toMatchObject({ kind: 'timeout', retryable: true })
  })

  it('a call given longer to answer than the client\'s timeout (a thinking call) is not cut while its body is on the way', async () => {
    const server = await serve((_req, res) => {
      const body = completion('想好了')
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).flushHeaders()
      setTimeout(() => res.end(body), 300)
    })
    const client = createGlmClient({ apiKey: 'k', baseUrl: server.url, timeoutMs: 50, retry: { limit: 0 } })
    expect((await client.chat(hi, { timeoutMs: 5000, retryOnTimeout: false })).content).toBe('想好了')
  })

  it('hands a failed status with its headers and body to the retry rules', async () => {
    const server = await serve((_req, res, _socket, nth) => {
      if (nth === 1) res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify({ error: { code: '1302', message: '并发过高' } }))
      else res.writeHead(200, { 'content-type': 'application/json' }).end(completion('after the limit'))
    })
    const onRetry = vi.fn()
    const r = await createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { baseDelayMs: 1 } }).chat(hi, { onRetry })
    expect(r.content).toBe('after the limit')
    expect(onRetry).toHaveBeenCalledWith(expect.objectContaining({ error: expect.objectContaining({ status: 429, glmCode: '1302' }) }))
  })

  it('a 400 is judged by its GLM code and not retried', async () => {
    const server = await serve((_req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: '1214', message: 'messages 参数非法' } })))
    const error = await glmFailure(createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { baseDelayMs: 1 } }).chat(hi))
    expect(error).toMatchObject({ kind: 'http', status: 400, glmCode: '1214', retryable: false })
  })
})

describe('the GLM client on Node, against a broken or hostile upstream', () => {
  const answer = (status: string, headers: Record<string, string | number>, body = '') =>
    `HTTP/1.1 ${status}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

  it('a 101 to a call that asked for no upgrade fails the call instead of leaving it waiting forever', { timeout: 8000 }, async () => {
    const server = await rawServe('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n')
    const error = await glmFailure(createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { limit: 0 } }).chat(hi))
    expect(error).toMatchObject({ kind: 'network', retryable: true })
  })

  it('a 400 whose reason phrase a Response cannot hold is still a final 400, sent once', async () => {
    const server = await rawServe(answer('400 Bad\x01Request', { 'content-type': 'application/json' }, JSON.stringify({ error: { code: '1214', message: 'messages 参数非法' } })))
    const error = await glmFailure(createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { baseDelayMs: 1 } }).chat(hi))
    expect(error).toMatchObject({ kind: 'http', status: 400, glmCode: '1214', retryable: false })
    expect(server.requests()).toBe(1)
  })

  it('a status outside 200-599 from a broken proxy is an HTTP error with that status, sent once, as through fetch', async () => {
    const server = await rawServe(answer('999 Weird', {}, '{}'))
    const error = await glmFailure(createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { baseDelayMs: 1 } }).chat(hi))
    expect(error).toMatchObject({ kind: 'http', status: 999 })
    expect(server.requests()).toBe(1)
  })

  it('an answer labelled with a content-encoding the client does not know is read as it came, as fetch does', async () => {
    const server = await rawServe(answer('200 OK', { 'content-type': 'application/json', 'content-encoding': 'UTF-8' }, completion('原样')))
    expect((await createGlmClient({ apiKey: 'k', baseUrl: server.url }).chat(hi)).content).toBe('原样')
  })

  it('a 500 in an unknown content-encoding is still reported as HTTP 500', async () => {
    const server = await rawServe(answer('500 Internal Server Error', { 'content-encoding': 'none' }, JSON.stringify({ error: { code: '500', message: '服务器错误' } })))
    const error = await glmFailure(createGlmClient({ apiKey: 'k', baseUrl: server.url, retry: { limit: 0 } }).chat(hi))
    expect(error).toMatchObject({ kind: 'http', status: 500, message: '服务器错误' })
  })

  it('a caller\'s own Authorization header is sent as given, whatever its case', async () => {
    let seen: string | undefined
    const server = await serve((req, res) => {
      seen = req.headers.authorization
      res.writeHead(200, { 'content-type': 'application/json' }).end(completion('ok'))
    })
    await createGlmClient({ apiKey: 'k', baseUrl: server.url, headers: { Authorization: 'Bearer gateway-token' } }).chat(hi)
    expect(seen).toBe('Bearer gateway-token')
  })
})
