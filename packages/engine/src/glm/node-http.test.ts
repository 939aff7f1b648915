import { createServer, type Server, type ServerResponse } from 'node:http'
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { BodyIdleError, nodeTransport } from './node-http.ts'

let server: Server | undefined
afterEach(() => server?.close())

async function answering(handler: (res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => handler(res))
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/v4/chat/completions`
}

const post = (url: string, limits: { idleMs: number; maxBodyBytes?: number }, signal = new AbortController().signal) =>
  nodeTransport(url)!.post(url, { 'content-type': 'application/json' }, '{}', signal, limits)

describe('node:http transport limits', () => {
  it('is not offered for a URL that is not http(s)', () => {
    expect(nodeTransport('file:///etc/passwd')).toBeUndefined()
    expect(nodeTransport('not a url')).toBeUndefined()
  })

  it('reads a body that fits', async () => {
    const url = await answering((res) => res.end('x'.repeat(1000)))
    expect(await (await post(url, { idleMs: 5000, maxBodyBytes: 1000 })).text()).toHaveLength(1000)
  })

  it('refuses a body larger than the ceiling instead of holding it all', async () => {
    const url = await answering((res) => res.end('x'.repeat(50_000)))
    const reply = await post(url, { idleMs: 5000, maxBodyBytes: 10_000 })
    await expect(reply.text()).rejects.toMatchObject({ name: 'TypeError', cause: { message: 'the answer is larger than 10000 bytes' } })
  })

  it('refuses a small compressed body that inflates past the ceiling', async () => {
    const bomb = gzipSync(Buffer.alloc(5_000_000))
    expect(bomb.length).toBeLessThan(10_000)
    const url = await answering((res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb))
    const reply = await post(url, { idleMs: 5000, maxBodyBytes: 100_000 })
    await expect(reply.text()).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' })
  })

  it('gives up on a body that stops arriving', async () => {
    const url = await answering((res) => {
      res.writeHead(200, { 'content-length': '100' })
      res.write('{"partial":')
    })
    const reply = await post(url, { idleMs: 150 })
    await expect(reply.text()).rejects.toBeInstanceOf(BodyIdleError)
  })

  it('rejects with the signal\'s reason when cancelled before the answer', async () => {
    const url = await answering(() => {})
    const controller = new AbortController()
    const pending = post(url, { idleMs: 5000 }, controller.signal)
    controller.abort(new Error('player left'))
    await expect(pending).rejects.toThrow('player left')
  })
})

describe('node:http transport decoding, as undici decodes', () => {
  it('reads zlib-wrapped and raw deflate alike', async () => {
    for (const body of [deflateSync('{"a":1}'), deflateRawSync('{"a":1}')]) {
      const url = await answering((res) => res.writeHead(200, { 'content-encoding': 'deflate' }).end(body))
      expect(await (await post(url, { idleMs: 5000 })).text()).toBe('{"a":1}')
      server?.close()
    }
  })

  it('undoes stacked codings, the last applied first', async () => {
    const url = await answering((res) => res.writeHead(200, { 'content-encoding': 'gzip, br' }).end(brotliCompressSync(gzipSync('{"b":2}'))))
    expect(await (await post(url, { idleMs: 5000 })).text()).toBe('{"b":2}')
  })

  it('passes on a body whose coding it does not know, and an empty one', async () => {
    const url = await answering((res) => res.writeHead(200, { 'content-encoding': 'compress' }).end('{"c":3}'))
    expect(await (await post(url, { idleMs: 5000 })).text()).toBe('{"c":3}')
    server?.close()
    const empty = await answering((res) => res.writeHead(503, { 'content-encoding': 'gzip' }).end())
    expect((await (await post(empty, { idleMs: 5000 })).toResponse()).status).toBe(503)
  })

  it('keeps what a cut-short gzip body inflates to', async () => {
    const whole = gzipSync(JSON.stringify({ error: { code: '1302', message: 'x'.repeat(2000) } }))
    const url = await answering((res) => res.writeHead(429, { 'content-encoding': 'gzip' }).end(whole.subarray(0, whole.length - 8)))
    const response = await (await post(url, { idleMs: 5000 })).toResponse()
    expect(response.status).toBe(429)
    expect(await response.text()).toContain('"code":"1302"')
  })
})
