/**
 * Node's `http` on one side, web-standard `Response` on the other: writes an engine answer to a
 * Node response, streaming its body (SSE included) and stopping when the client goes away. Shared
 * by the demo server and `parley dev`.
 */
import type { ServerResponse } from 'node:http'

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
