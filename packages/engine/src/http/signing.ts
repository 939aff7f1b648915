/**
 * HMAC-SHA-256 signing with a key ring, on Web Crypto only (browsers, Node, Deno, Bun, workers).
 * The first key signs; every listed key verifies, so a key can be rotated in while the old one
 * still verifies what it signed. Each signature names its purpose, so a signed client id can never
 * pass as a signed save. Also owns the constant-time comparison of game keys.
 */

export interface SigningKey {
  /** Short and stable: it travels with every signature (`[A-Za-z0-9_-]{1,32}`). */
  id: string
  /** At least 32 characters of secret (e.g. `openssl rand -base64 32`). */
  secret: string
}

import { LruCache } from '../lore/lru.ts'

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/
/**
 * Signatures over short inputs (client ids, user ids: the same few thousand, once per request) are
 * kept: HMAC is deterministic, and a Web Crypto call per request was a tenth of a turn's handler
 * time. Saves are long and each one new, so they are never kept.
 */
const MEMO_INPUT_CHARS = 512
/**
 * Node's own crypto where there is one, found without importing it (so this module still loads in
 * browsers and workers): a synchronous HMAC is microseconds, where each Web Crypto call is a trip
 * to a thread pool and back. Both compute the same bytes; the tests hold them to it.
 */
type NodeCrypto = Pick<typeof import('node:crypto'), 'createHmac' | 'createHash'>
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined
const MEMO_ENTRIES = 4096
const SIGNATURE = /^([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{43})$/
const encoder = new TextEncoder()

export class SigningConfigError extends Error {
  override name = 'SigningConfigError'
}

export class KeyRing {
  /** True when no key was configured and this one was made for the process: nothing it signs survives a restart. */
  readonly ephemeral: boolean
  readonly #keys = new Map<string, Promise<CryptoKey>>()
  readonly #secrets = new Map<string, string>()
  readonly #current: string
  /** `keyId\npurpose\ndata` → that key's mac, for short inputs only. */
  readonly #macs = new LruCache<string, string>(MEMO_ENTRIES)

  constructor(keys: readonly SigningKey[], options: { ephemeral?: boolean } = {}) {
    if (keys.length === 0) throw new SigningConfigError('a key ring needs at least one key')
    for (const k of keys) {
      if (!KEY_ID.test(k.id)) throw new SigningConfigError(`signing key id "${k.id}" must be 1 to 32 of A-Z a-z 0-9 _ -`)
      if (k.secret.length < 32) throw new SigningConfigError(`signing key "${k.id}" is ${k.secret.length} characters; use at least 32 (openssl rand -base64 32)`)
      if (this.#keys.has(k.id)) throw new SigningConfigError(`signing key id "${k.id}" is listed twice`)
      this.#secrets.set(k.id, k.secret)
      this.#keys.set(k.id, crypto.subtle.importKey('raw', encoder.encode(k.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']))
    }
    this.#current = keys[0]!.id
    this.ephemeral = options.ephemeral ?? false
  }

  /** A random key for this process only. */
  static ephemeral(): KeyRing {
    return new KeyRing([{ id: `process-${toHex(crypto.getRandomValues(new Uint8Array(4)))}`, secret: base64url(crypto.getRandomValues(new Uint8Array(32))) }], { ephemeral: true })
  }

  /** `id:secret,id:secret` (the first signs), as in `PARLEY_SIGNING_KEYS`; empty means ephemeral. */
  static parse(text: string | undefined): KeyRing {
    const entries = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    if (entries.length === 0) return KeyRing.ephemeral()
    return new KeyRing(entries.map((entry) => {
      const colon = entry.indexOf(':')
      if (colon < 1) throw new SigningConfigError('each signing key is written id:secret (PARLEY_SIGNING_KEYS=k2:…,k1:…)')
      return { id: entry.slice(0, colon), secret: entry.slice(colon + 1) }
    }))
  }

  get currentKeyId(): string {
    return this.#current
  }

  /** `keyId.mac` over `purpose` and `data`. */
  async sign(purpose: string, data: string): Promise<string> {
    return `${this.#current}.${await this.#mac(this.#current, purpose, data)}`
  }

  /** The mac of `purpose` and `data` under key `keyId` (which must be in the ring), base64url. */
  async #mac(keyId: string, purpose: string, data: string): Promise<string> {
    const input = `${purpose}\n${data}`
    const memo = input.length <= MEMO_INPUT_CHARS ? `${keyId}\n${input}` : undefined
    const known = memo && this.#macs.get(memo)
    if (known) return known
    const mac = nodeCrypto
      ? nodeCrypto.createHmac('sha256', this.#secrets.get(keyId)!).update(input).digest('base64url')
      : base64url(new Uint8Array(await crypto.subtle.sign('HMAC', await this.#keys.get(keyId)!, encoder.encode(input))))
    if (memo) this.#macs.set(memo, mac)
    return mac
  }

  /** False for a malformed signature, an unlisted key id, or a mac that does not match. */
  async verify(purpose: string, data: string, signature: unknown): Promise<boolean> {
    if (typeof signature !== 'string') return false
    const m = SIGNATURE.exec(signature)
    if (!m || !this.#keys.has(m[1]!)) return false
    return sameText(await this.#mac(m[1]!, purpose, data), m[2]!)
  }
}

/** Equal strings of equal length, compared in time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** SHA-256 of each configured secret, computed once: they are few and fixed for the process. */
const secretDigests = new Map<string, Promise<Uint8Array>>()
const digestOf = async (text: string): Promise<Uint8Array> =>
  nodeCrypto ? nodeCrypto.createHash('sha256').update(text).digest() : new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)))
function secretDigest(secret: string): Promise<Uint8Array> {
  let digest = secretDigests.get(secret)
  if (!digest) {
    digest = digestOf(secret)
    // Bounded all the same: a server that rotates keys in process must not grow without end.
    if (secretDigests.size >= 64) secretDigests.clear()
    secretDigests.set(secret, digest)
  }
  return digest
}

/**
 * Whether `given` is one of `secrets`, in time that does not depend on where they differ: both
 * sides are hashed first, so lengths and common prefixes tell an attacker nothing.
 */
export async function matchesSecret(given: string, secrets: readonly string[]): Promise<boolean> {
  const a = await digestOf(given)
  let found = false
  for (const s of secrets) {
    const b = await secretDigest(s)
    let diff = 0
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
    found = found || diff === 0
  }
  return found
}

export function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    const out = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
    return out
  } catch {
    return undefined
  }
}

export function toHex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}
