/**
 * A caller of the dialogue handler for the memory tests: a browser that keeps the cookie the
 * server sets, or the game with its key (with a player's cookie, or naming a player). A cookie
 * given up front (a forged one, say) is the one sent throughout.
 */
export type Handler = (r: Request) => Promise<Response>

export function httpCaller(handler: Handler, gameKey: string, as: { game?: boolean; player?: string; cookie?: string } = {}) {
  let cookie = as.cookie ?? ''
  const call = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await handler(
      new Request(`http://demo.test/api${url}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(cookie && { cookie }),
          ...(as.game && { authorization: `Bearer ${gameKey}` }),
          ...(as.player && { 'x-parley-player': as.player }),
          ...headers,
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
    )
    const set = res.headers.get('set-cookie')
    if (set && !as.cookie) cookie = set.split(';')[0]!
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
  return Object.assign(call, { cookie: () => cookie })
}
