/**
 * Node's `http` on one side, web-standard `Request`/`Response` on the other, shared by the demo
 * server and `parley dev`: a request's body is streamed, never buffered here, so the engine's own
 * body limits (size, deadline) apply; an answer is streamed back (SSE included) and stops when the
 * client goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The Node request as a web `Request` whose body streams and whose signal fires when the client leaves. */
export function toWebRequest(req: IncomingMessage, res: ServerResponse): Request {
  const controller = new AbortController()
  res.on('close', () => controller.abort())
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v)
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
    method: req.method,
    headers,
    body: hasBody ? (req as unknown as ReadableStream) : undefined,
    signal: controller.signal,
    // @ts-expect-error Node's fetch needs this to stream a request body
    duplex: 'half',
  })
}

export async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = Object.fromEntries(response.headers)
  // Several cookies are several headers; `Object.fromEntries` would keep only one.
  const cookies = response.headers.getSetCookie()
  if (cookies.length) headers['set-cookie'] = cookies
  res.writeHead(response.status, headers)
  if (!response.body) return void res.end()
  const reader = response.body.getReader()
  res.on('close', () => void reader.cancel().catch(() => {}))
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    res.write(value)
  }
  res.end()
}
