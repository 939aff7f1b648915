/** @module @parley/engine/redis: conversations in Redis, so any server can serve any conversation. */
import { createClient, type RedisClientType } from 'redis'
import { StoreUnavailableError, type ConversationStore, type StoredConversation } from './types.ts'

export { StoreUnavailableError }

// Compare-and-set in one round trip: write only if the stored version is the one the caller read.
const PUT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', current + 1, 'data', ARGV[2], 'owner', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

const CONNECT_TIMEOUT_MS = 2000

async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (error) {
    throw new StoreUnavailableError(error)
  }
}

export interface RedisStoreOptions {
  /** e.g. redis://127.0.0.1:6379 (REDIS_URL). */
  url: string
  /** Idle conversations expire after this. Default 30 minutes. */
  ttlMs?: number
  /** Key prefix, to share a Redis with other data. Default `parley:conversation:`. */
  prefix?: string
}

export class RedisConversationStore implements ConversationStore {
  readonly #client: RedisClientType
  readonly #ttlMs: number
  readonly #prefix: string
  readonly #ready: Promise<unknown>

  constructor(options: RedisStoreOptions) {
    this.#ttlMs = options.ttlMs ?? 30 * 60_000
    this.#prefix = options.prefix ?? 'parley:conversation:'
    this.#client = createClient({
      url: options.url,
      // Keep trying while Redis restarts; requests meanwhile fail fast rather than queue forever.
      socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2000), connectTimeout: CONNECT_TIMEOUT_MS },
      disableOfflineQueue: true,
    })
    this.#client.on('error', () => {
      // Reconnection is automatic; each failed command reports its own error to its caller.
    })
    this.#ready = this.#client.connect()
    this.#ready.catch(() => {
      // A first connection that fails is reported by each operation, which awaits it.
    })
  }

  async get(id: string): Promise<StoredConversation | undefined> {
    const h = await guard(async () => (await this.#connected(), this.#client.hGetAll(this.#prefix + id)))
    if (!h.data || !h.version) return undefined
    return { ...(JSON.parse(h.data) as Omit<StoredConversation, 'version'>), version: Number(h.version) }
  }

  async put(id: string, record: Omit<StoredConversation, 'version'>, expected: number): Promise<boolean> {
    const ok = await guard(async () => (await this.#connected(), this.#client.eval(PUT, { keys: [this.#prefix + id], arguments: [String(expected), JSON.stringify(record), String(this.#ttlMs), record.owner] })))
    return ok === 1
  }

  async head(id: string): Promise<{ version: number; owner: string } | undefined> {
    const [version, owner] = await guard(async () => (await this.#connected(), this.#client.hmGet(this.#prefix + id, ['version', 'owner'])))
    return version && owner ? { version: Number(version), owner } : undefined
  }

  async delete(id: string): Promise<void> {
    await guard(async () => (await this.#connected(), this.#client.del(this.#prefix + id)))
  }

  async touch(id: string): Promise<void> {
    await guard(async () => (await this.#connected(), this.#client.pExpire(this.#prefix + id, this.#ttlMs)))
  }

  /**
   * Waits for the connection at most as long as one connection attempt may take: a Redis that was
   * never reachable fails each operation with StoreUnavailableError instead of holding it forever
   * (the client keeps reconnecting in the background).
   */
  async #connected(): Promise<void> {
    if (this.#client.isReady) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([this.#ready.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, CONNECT_TIMEOUT_MS)))])
    clearTimeout(timer)
    if (!this.#client.isReady) throw new Error('Redis is not reachable')
  }

  async close(): Promise<void> {
    if (this.#client.isReady) await this.#client.quit().catch(() => {})
    else this.#client.destroy()
  }
}
