import { ParleyError } from '../errors.ts'

const encoder = new TextEncoder()

function base64url(bytes: Uint8Array | string): string {
  const data = typeof bytes === 'string' ? encoder.encode(bytes) : bytes
  let binary = ''
  for (const b of data) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Signs the short-lived token the official SDK builds from an `id.secret` key: HS256 with the
 * secret, header `sign_type: SIGN`, and `exp`/`timestamp` in MILLISECONDS (not seconds).
 * WebCrypto only, so it runs in browsers and workers as well as Node.
 */
export async function signGlmJwt(apiKey: string, ttlMs = 210_000, now = Date.now()): Promise<string> {
  const dot = apiKey.indexOf('.')
  if (dot <= 0 || dot === apiKey.length - 1) throw new ParleyError('invalid_api_key', 'a GLM API key for JWT auth has the form "id.secret"')
  const id = apiKey.slice(0, dot)
  const secret = apiKey.slice(dot + 1)
  const header = base64url(JSON.stringify({ alg: 'HS256', sign_type: 'SIGN' }))
  const payload = base64url(JSON.stringify({ api_key: id, exp: now + ttlMs, timestamp: now }))
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`${header}.${payload}`)))
  return `${header}.${payload}.${base64url(signature)}`
}
