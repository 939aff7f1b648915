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
type Inflate = (body: Buffer, options: { maxOutputLength: number; finishFlush: number }, done: (error: Error | null, out: Buffer) => void) => void
type NodeZlib = Record<'gunzip' | 'inflate' | 'inflateRaw' | 'brotliDecompress', Inflate> & { constants: Record<'Z_SYNC_FLUSH' | 'BROTLI_OPERATION_FLUSH', number> }
type IncomingMessage = import('node:http').IncomingMessage
type Agent = import('node:http').Agent

const builtin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule

/**
 * How long an idle connection is kept for the next call. Below the 5 s that Node's and most
 * servers' keep-alive timeouts use, so the client lets a connection go before the server does.
 */
const IDLE_SOCKET_MS = 4_000

/** What undici's fetch sends unasked, less its browser-only headers. */
const FETCH_HEADERS = { accept: '*/*', 'accept-encoding': 'gzip, deflate', 'user-agent': 'node' } as const

/** Far above any chat answer or 64 embeddings (a few MB), far below what would take the process down. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024

/** The answer's body stopped arriving for longer than the call's idle limit. */
export class BodyIdleError extends Error {
  override name = 'BodyIdleError'
}

export interface TransportLimits {
  /** Longest silence while the body is read. */
  idleMs: number
  /** Largest body, decompressed or not (default MAX_BODY_BYTES). */
  maxBodyBytes?: number | undefined
  /**
   * Whether a kept connection reset before any answer may be sent once more (default true). The
   * reset cannot tell a server that closed the idle connection from a proxy that cut a call the
   * server was already answering, so a call that must not go twice turns this off.
   */
  resendOnReset?: boolean | undefined
}

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
  post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal, limits: TransportLimits): Promise<NodeReply>
}

/** fetch as this module found it; a different one later is someone's stub or wrapper. */
const loadedFetch = globalThis.fetch
/** Where undici, Node's fetch, looks for the dispatcher that all fetches go through (setGlobalDispatcher). */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1')

/**
 * Whether fetch still reaches the network the way node:http does. A process may route fetch
 * through a proxy (undici's ProxyAgent or EnvHttpProxyAgent, Node's NODE_USE_ENV_PROXY), a mock
 * (MockAgent) or a stubbed `globalThis.fetch`; node:http would go around all of them, straight to
 * the base URL, so then every call goes through fetch as it did before this transport.
 */
export function fetchIsPlain(): boolean {
  if (globalThis.fetch !== loadedFetch) return false
  const dispatcher = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] as object | undefined
  // Node installs a plain Agent on first use; any other dispatcher was put there on purpose.
  return dispatcher === undefined || dispatcher.constructor?.name === 'Agent'
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
  // The headers fetch adds on its own: a gateway may refuse a call that names no client, and GLM
  // compresses a large answer (64 embeddings: megabytes of numbers) only when asked.
  return { post: (url, headers, body, signal, limits) => send(http, agent, url, { ...FETCH_HEADERS, ...headers, 'content-length': String(Buffer.byteLength(body)) }, body, signal, limits, limits.resendOnReset ?? true) }
}

function send(http: NodeHttp, agent: Agent, url: string, headers: Record<string, string>, body: string, signal: AbortSignal, limits: TransportLimits, mayResend: boolean): Promise<NodeReply> {
  return new Promise<NodeReply>((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal))
    let answered = false
    let settled = false
    const req = http.request(url, { method: 'POST', agent, headers })
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      unlink()
      reject(error)
    }
    // Until the body is read: an abort then ends the response too. A request node:http has already
    // closed (after a 101) emits nothing more on destroy, so the abort settles the call itself.
    const onAbort = () => {
      req.destroy(abortReason(signal) as Error)
      if (!answered) fail(abortReason(signal))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const unlink = () => signal.removeEventListener('abort', onAbort)
    req.on('error', (error) => {
      if (answered || settled) return
      if (signal.aborted) return fail(abortReason(signal))
      // A kept-alive connection the server closed just as it was reused: the request never
      // reached the server, so it goes once more on a fresh connection, as browsers do.
      if (mayResend && req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
        settled = true
        unlink()
        send(http, agent, url, headers, body, signal, limits, false).then(resolve, reject)
        return
      }
      fail(fetchFailed(error))
    })
    // A 101 to a request that asked for no upgrade: node:http drops the connection with neither a
    // response nor an error, which would leave the call waiting forever (fetch: "bad upgrade").
    req.on('close', () => {
      if (!answered) fail(fetchFailed(new Error('the connection closed without an answer')))
    })
    req.on('response', (res) => {
      if (settled) return void res.destroy()
      answered = settled = true
      resolve(reply(res, signal, limits, unlink))
    })
    req.end(body)
  })
}

function reply(res: IncomingMessage, signal: AbortSignal, limits: TransportLimits, unlink: () => void): NodeReply {
  const status = res.statusCode ?? 0
  const maxBytes = limits.maxBodyBytes ?? MAX_BODY_BYTES
  let read: Promise<Buffer> | undefined
  const bytes = () =>
    (read ??= new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      let stopped: Error | undefined
      const fail = (error: unknown) => {
        clearTimeout(idle)
        unlink()
        reject(signal.aborted ? abortReason(signal) : (stopped ?? new TypeError('terminated', { cause: error })))
      }
      const stop = (error: Error) => {
        stopped = error
        res.destroy(error)
      }
      // fetch's body has no deadline of its own; a server that sends headers and then stalls would hold the turn forever.
      const idle = setTimeout(() => stop(new BodyIdleError(`no data for ${limits.idleMs} ms while reading the answer`)), Math.min(limits.idleMs, 2_147_483_647))
      if (signal.aborted) return fail(undefined)
      res.on('data', (chunk: Buffer) => {
        idle.refresh()
        size += chunk.length
        if (size > maxBytes) stop(fetchFailed(new Error(`the answer is larger than ${maxBytes} bytes`)))
        else chunks.push(chunk)
      })
      res.on('error', fail)
      res.on('end', () => {
        clearTimeout(idle)
        unlink()
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
      })
      res.on('close', () => {
        if (!res.complete) fail(new Error('the connection closed before the body ended'))
      })
    }))
  const decoded = async () => decode(await bytes(), res.headers['content-encoding'], maxBytes)
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
      // fetch reports whatever status and reason the server sent; a Response refuses a status
      // outside 200-599 and a reason with control characters, which would turn a final answer
      // (a 400, a proxy's 999) into a network error that is sent again.
      const statusText = /^[\t\x20-\x7e\x80-\xff]*$/.test(res.statusMessage ?? '') ? (res.statusMessage ?? '') : ''
      const inRange = status >= 200 && status <= 599
      const response = new Response(nullBody ? null : text, { status: inRange ? status : 500, statusText, headers })
      return inRange ? response : Object.defineProperties(response, { status: { value: status }, ok: { value: false } })
    },
  }
}

/**
 * fetch asks for compressed bodies and undoes the compression; some proxies compress unasked, so
 * this does too, as undici does: codings undone last-applied first, and a body in a coding it
 * does not know (a proxy's "UTF-8", "none") passed on as it came.
 */
async function decode(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  if (!encoding) return body
  const codings = encoding.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== '' && c !== 'identity')
  if (codings.length === 0 || body.length === 0) return body
  if (codings.length > 5) throw fetchFailed(new Error(`too many content-encodings (${codings.length})`))
  const zlib = builtin?.('node:zlib') as NodeZlib | undefined
  if (!zlib) return body
  const steps: Inflate[] = []
  for (const coding of codings.reverse()) {
    const step = coding === 'gzip' || coding === 'x-gzip' ? zlib.gunzip : coding === 'deflate' ? inflateAny(zlib) : coding === 'br' ? zlib.brotliDecompress : undefined
    if (!step) return body
    steps.push(step)
  }
  let out = body
  // A small body may inflate to gigabytes: the same ceiling holds after decompression. A body cut
  // short keeps what was inflated, as undici's flush mode does.
  for (const step of steps) {
    const finishFlush = step === zlib.brotliDecompress ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH
    out = await new Promise<Buffer>((resolve, reject) => step(out, { maxOutputLength: maxBytes, finishFlush }, (error: Error | null, inflated: Buffer) => (error ? reject(fetchFailed(error)) : resolve(inflated))))
  }
  return out
}

/** "deflate" is zlib-wrapped by the spec and raw from some servers; undici takes both, told apart by the first byte. */
function inflateAny(zlib: NodeZlib): Inflate {
  return (body, options, done) => ((body[0]! & 0x0f) === 0x08 ? zlib.inflate : zlib.inflateRaw)(body, options, done)
}

/** undici's own shape for a call that failed below HTTP: ky retries it and toGlmError calls it `network`. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause })
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}
