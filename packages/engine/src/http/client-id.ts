/**
 * Player identities the server issues and signs: a browser's anonymous id (its cookie) and the
 * player tokens a game mints for its own accounts. A token carries the identity and an expiry
 * under the key ring's signature, so the server keeps no table of them, and an id a client
 * invents (or edits) verifies as nothing.
 */
import { ANONYMOUS_PLAYER_PREFIX } from '../store/types.ts'
import { base64url, fromBase64url, toHex, type KeyRing } from './signing.ts'

export const CLIENT_COOKIE = 'parley_client'
const PURPOSE = 'parley.client.v1'
const TOKEN = /^([A-Za-z0-9_-]{1,200})\.(\d{1,12})\.([A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{43})$/
const decoder = new TextDecoder('utf-8', { fatal: true })

/** An anonymous browser: 128 random bits. */
export function newBrowserIdentity(): string {
  return `${ANONYMOUS_PLAYER_PREFIX}${toHex(crypto.getRandomValues(new Uint8Array(16)))}`
}

/** A player the game names by its own account id. */
export function gamePlayerIdentity(account: string): string {
  return `p:${account}`
}

/** Account ids a game may name: printable, no spaces, at most 128 characters. */
export const ACCOUNT_ID = /^[A-Za-z0-9_.:@+-]{1,128}$/

export async function issueClientToken(ring: KeyRing, identity: string, expiresAtSeconds: number): Promise<string> {
  const body = `${base64url(new TextEncoder().encode(identity))}.${Math.floor(expiresAtSeconds)}`
  return `${body}.${await ring.sign(PURPOSE, body)}`
}

/** The identity a token names, or undefined if it is malformed, forged, signed by an unlisted key, or expired. */
export async function readClientToken(ring: KeyRing, token: string | null | undefined, nowMs: number): Promise<string | undefined> {
  if (!token || token.length > 400) return undefined
  const m = TOKEN.exec(token)
  if (!m) return undefined
  if (!(await ring.verify(PURPOSE, `${m[1]}.${m[2]}`, m[3]))) return undefined
  if (Number(m[2]) * 1000 <= nowMs) return undefined
  const bytes = fromBase64url(m[1]!)
  try {
    return bytes && decoder.decode(bytes)
  } catch {
    return undefined
  }
}

/** The token a request presents: the `x-parley-client` header first (game clients), else the cookie. */
export function presentedToken(request: Request): string | undefined {
  const header = request.headers.get('x-parley-client')
  if (header) return header
  const cookie = request.headers.get('cookie') ?? ''
  return new RegExp(`(?:^|;\\s*)${CLIENT_COOKIE}=([^;\\s]{1,400})`).exec(cookie)?.[1]
}

export function clientCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${CLIENT_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`
}
