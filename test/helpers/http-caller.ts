/**
 * A caller of the dialogue handler for the HTTP tests: a browser that keeps the cookie the server
 * sets, or the game with its key (with a player's cookie, or naming a player), or a client with a
 * player token. A cookie given up front (a forged one, say) is the one sent throughout.
 */
export type Handler = (r: Request, info: { address: string }) => Promise<Response>

export interface CallerOptions {
  game?: boolean
  player?: string
  cookie?: string
  /** A player token, sent as `x-parley-client`. */
  token?: string
  /** The peer address the handler is told (none by default). */
  address?: string
  /** Scheme and host of the requests (default `http://demo.test`). */
  base?: string
}

export function httpCaller(handler: Handler | ((r: Request) => Promise<Response>), gameKey: string, as: CallerOptions = {}) {
  let cookie = as.cookie ?? ''
  /** Every body the server sent, for checks over the whole exchange. */
  const seen: string[] = []
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const request = new Request(`${as.base ?? 'http://demo.test'}/api${url}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(cookie && { cookie }),
        ...(as.game && { authorization: `Bearer ${gameKey}` }),
        ...(as.player && { 'x-parley-player': as.player }),
        ...(as.token && { 'x-parley-client': as.token }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const res = await (as.address === undefined ? (handler as (r: Request) => Promise<Response>)(request) : handler(request, { address: as.address }))
    const set = res.headers.get('set-cookie')
    if (set && !as.cookie) cookie = set.split(';')[0]!
    const text = await res.text()
    seen.push(text)
    let json: any
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined // an SSE stream or an empty body
    }
    return {
      status: res.status,
      text,
      json,
      headers: res.headers,
      setCookie: set,
      /** The body as JSON, which it must be (empty: undefined). */
      get body() {
        return text ? JSON.parse(text) : undefined
      },
    }
  }
  return Object.assign(call, { seen, cookie: () => cookie, setCookie: (c: string) => (cookie = c) })
}
