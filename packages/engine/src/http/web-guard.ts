/**
 * Web hygiene checks, as pure functions of a request so any router (this handler, the demo
 * server's own routes, a hono app later) can run them: JSON content type and allowed origin on
 * state-changing requests, allowed Host names (a loopback server answers loopback names only, so
 * DNS rebinding cannot aim a web page at it), and the client's address (the socket's, or
 * `X-Forwarded-For` only behind proxies the operator says to trust).
 */

export type GuardProblem = { status: number; code: string; message: string }

/** `'loopback'`: localhost, *.localhost, 127.0.0.0/8 and ::1 only. A list: those host names. */
export type AllowedHosts = 'any' | 'loopback' | readonly string[]

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h)
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false
  return isLoopbackHostname(address.replace(/^::ffff:/, ''))
}

/** The Host the request was sent to, checked against the allowed names. */
export function checkHost(request: Request, allowed: AllowedHosts): GuardProblem | undefined {
  if (allowed === 'any') return undefined
  const hostname = new URL(request.url).hostname
  const ok = allowed === 'loopback' ? isLoopbackHostname(hostname) : allowed.some((h) => h.toLowerCase() === hostname.toLowerCase())
  return ok ? undefined : { status: 403, code: 'host_not_allowed', message: `this server does not answer for host "${hostname}"` }
}

/**
 * A state-changing request must say it sends JSON (a cross-site form or `text/plain` beacon cannot)
 * and, when the browser says where it comes from, come from an allowed origin.
 */
export function checkStateChange(request: Request, options: { allowedOrigins?: readonly string[] | undefined; trustProxy?: number | undefined }): GuardProblem | undefined {
  if (!STATE_CHANGING.has(request.method)) return undefined
  const origin = request.headers.get('origin')
  if (origin !== null) {
    const allowed = options.allowedOrigins ?? [expectedOrigin(request, options.trustProxy ?? 0)]
    if (!allowed.includes(origin)) return { status: 403, code: 'origin_not_allowed', message: `requests from origin ${origin} are not allowed here` }
  } else if (request.headers.get('sec-fetch-site') === 'cross-site') {
    return { status: 403, code: 'origin_not_allowed', message: 'cross-site requests are not allowed here' }
  }
  if (request.method !== 'DELETE') {
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json') return { status: 415, code: 'unsupported_media_type', message: 'send the body as JSON, with content-type: application/json' }
  }
  return undefined
}

/** This request's own origin, as the browser would have written it. */
export function expectedOrigin(request: Request, trustProxy: number): string {
  const url = new URL(request.url)
  const forwarded = trustProxy > 0 ? request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() : undefined
  const protocol = forwarded === 'https' || forwarded === 'http' ? `${forwarded}:` : url.protocol
  return `${protocol}//${url.host}`
}

export function isHttps(request: Request, trustProxy: number): boolean {
  return expectedOrigin(request, trustProxy).startsWith('https:')
}

/**
 * Who is on the other end, for per-address limits. `X-Forwarded-For` is anyone's to write, so it
 * is read only with `trustProxy` set to the number of proxies in front of this server: the entry
 * that many hops from the right is the address the outermost trusted proxy saw.
 */
export function clientAddress(request: Request, socketAddress: string | undefined, trustProxy: number): string {
  if (trustProxy > 0) {
    const hops = (request.headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    const seen = hops[hops.length - trustProxy]
    if (seen) return seen
  }
  return socketAddress ?? 'unknown'
}
