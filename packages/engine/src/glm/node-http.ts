/**
 * The first attempt of a buffered call (chat, embeddings) on Node, sent through node:http(s) with
 * a keep-alive agent instead of fetch. undici's fetch wraps every call in a Request, Headers, web
 * streams and a Response: on loopback that is about 130 µs of a 900 µs call, more than the rest of
 * the client (bench/NOTES.md). Streams keep fetch, whose web stream the SSE reader takes; so do
 * browsers, workers and a client given its own `fetch`. What comes back behaves as fetch's would
 * where the client can tell: a network failure is fetch's `TypeError('fetch failed')` with the cause,
 * an abort rejects with the signal's reason, and a failed status becomes a real `Response` for ky
 * to judge (client.ts replays it as ky's own first attempt).
 */
type NodeHttp = Pick<typeof import('node:http'), 'request' | 'Agent'>
type NodeZlib = Pick<typeof import('node:zlib'), 'gunzip' | 'inflate' | 'brotliDecompress'>
type IncomingMessage = import('node:http').IncomingMessage
type Agent = import('node:http').Agent

const builtin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule

/**
 * How long an idle connection is kept for the next call. Below the 5 s that Node's and most
 * servers' keep-alive timeouts use, so the client lets a connection go before the server does.
 */
const IDLE_SOCKET_MS = 4_000

export interface NodeReply {
  readonly status: number
  readonly ok: boolean
  /** The whole body as text, decompressed; rejects if the call is aborted while it is read. */
  text(): Promise<string>
  /** The reply as a web `Response` (status, headers, body), for ky to judge a failed attempt. */
  toResponse(): Promise<Response>
}

export interface NodeTransport {
  /** Resolves once the response headers are in; the body is read by `text()`. */
  post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<NodeReply>
}

/** A transport for this base URL, or undefined where there is no node:http (browsers) or the URL is not http(s). */
export function nodeTransport(baseUrl: string): NodeTransport | undefined {
  if (!builtin) return undefined
  let protocol: string
  try {
    protocol = new URL(baseUrl).protocol
  } catch {
    return undefined
  }
  const http = protocol === 'https:' ? (builtin('node:https') as NodeHttp | undefined) : protocol === 'http:' ? (builtin('node:http') as NodeHttp | undefined) : undefined
  if (!http) return undefined
  // Free sockets are unref'd by the agent, so an idle client never holds the process open.
  const agent = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS })
  return { post: (url, headers, body, signal) => send(http, agent, url, { ...headers, 'content-length': String(Buffer.byteLength(body)) }, body, signal, true) }
}

function send(http: NodeHttp, agent: Agent, url: string, headers: Record<string, string>, body: string, signal: AbortSignal, mayResend: boolean): Promise<NodeReply> {
  return new Promise<NodeReply>((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal))
    let answered = false
    const req = http.request(url, { method: 'POST', agent, headers })
    // Until the body is read: an abort then ends the response too.
    const onAbort = () => req.destroy(abortReason(signal) as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    const unlink = () => signal.removeEventListener('abort', onAbort)
    req.on('error', (error) => {
      if (answered) return
      unlink()
      if (signal.aborted) return reject(abortReason(signal))
      // A kept-alive connection the server closed just as it was reused: the request never
      // reached the server, so it goes once more on a fresh connection, as browsers do.
      if (mayResend && req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
        send(http, agent, url, headers, body, signal, false).then(resolve, reject)
        return
      }
      reject(new TypeError('fetch failed', { cause: error }))
    })
    req.on('response', (res) => {
      answered = true
      resolve(reply(res, signal, unlink))
    })
    req.end(body)
  })
}

function reply(res: IncomingMessage, signal: AbortSignal, unlink: () => void): NodeReply {
  const status = res.statusCode ?? 0
  let read: Promise<Buffer> | undefined
  const bytes = () =>
    (read ??= new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = []
      const fail = (error: unknown) => {
        unlink()
        reject(signal.aborted ? abortReason(signal) : new TypeError('terminated', { cause: error }))
      }
      if (signal.aborted) return fail(undefined)
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', fail)
      res.on('end', () => {
        unlink()
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
      })
      res.on('close', () => {
        if (!res.complete) fail(new Error('the connection closed before the body ended'))
      })
    }))
  const decoded = async () => decode(await bytes(), res.headers['content-encoding'])
  return {
    status,
    ok: status >= 200 && status < 300,
    text: async () => (await decoded()).toString('utf8'),
    toResponse: async () => {
      const headers = new Headers()
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        // A header the body was decoded from no longer describes it.
        const name = res.rawHeaders[i]!
        if (/^content-(encoding|length)$/i.test(name)) continue
        try {
          headers.append(name, res.rawHeaders[i + 1]!)
        } catch {
          // A header fetch would have refused is left out rather than failing the whole reply.
        }
      }
      const text = (await decoded()).toString('utf8')
      const nullBody = status === 204 || status === 205 || status === 304
      return new Response(nullBody ? null : text, { status, statusText: res.statusMessage ?? '', headers })
    },
  }
}

/** fetch asks for compressed bodies and undoes the compression; some proxies compress unasked, so this does too. */
async function decode(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  const coding = encoding?.trim().toLowerCase()
  if (!coding || coding === 'identity') return body
  const zlib = builtin?.('node:zlib') as NodeZlib | undefined
  const step = coding === 'gzip' || coding === 'x-gzip' ? zlib?.gunzip : coding === 'deflate' ? zlib?.inflate : coding === 'br' ? zlib?.brotliDecompress : undefined
  if (!step) throw new TypeError(`fetch failed`, { cause: new Error(`unsupported content-encoding "${encoding}"`) })
  return new Promise<Buffer>((resolve, reject) => step(body, (error, out) => (error ? reject(new TypeError('fetch failed', { cause: error })) : resolve(out))))
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}
