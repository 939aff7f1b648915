/** @module @parley/engine/redis: conversations in Redis, so any server can serve any conversation. */
import { createClient, type RedisClientType } from 'redis'
import { defaultRecordTtl, StoreUnavailableError, type ConversationStore, type RecordKey, type RecordTtl, type StoredConversation, type StoredRecord } from './types.ts'

export { StoreUnavailableError }

// Compare-and-set in one round trip: write only if the stored version is the one the caller read.
const PUT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', current + 1, 'data', ARGV[2], 'owner', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

// Records are kept until deleted, or (ARGV[4] > 0) that many ms after their last write, their
// player's index with them; each player's set of NPC ids lets "forget this player" find them all.
const PUT_RECORD = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', current + 1, 'data', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
`

// One player's records and their index, all at once, so no half-forgotten player is ever seen.
const DELETE_RECORDS = `
local gone = 0
for _, npc in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  gone = gone + redis.call('DEL', ARGV[1] .. npc)
end
redis.call('DEL', KEYS[1])
return gone
`

const DELETE_RECORD = `
local gone = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end
return gone
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
  /** Key prefix of the memory records kept per (player, NPC). Default `parley:record:` (or `<prefix>record:` with a custom `prefix`). */
  recordPrefix?: string
  /** How long a memory record lives after each write. Default: an anonymous browser's (`c:`) as long as its cookie, others until deleted. */
  recordTtlMs?: RecordTtl
}

export class RedisConversationStore implements ConversationStore {
  readonly #client: RedisClientType
  readonly #ttlMs: number
  readonly #prefix: string
  readonly #records: string
  readonly #recordTtl: RecordTtl
  readonly #ready: Promise<unknown>

  constructor(options: RedisStoreOptions) {
    this.#ttlMs = options.ttlMs ?? 30 * 60_000
    this.#prefix = options.prefix ?? 'parley:conversation:'
    this.#records = options.recordPrefix ?? (options.prefix === undefined ? 'parley:record:' : `${options.prefix}record:`)
    this.#recordTtl = options.recordTtlMs ?? defaultRecordTtl
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

  // Ids are encoded, so a player id holding ':' or '/' can never name another player's keys.
  #index(player: string): string {
    return `${this.#records}${encodeURIComponent(player)}`
  }
  #recordKey(key: RecordKey): string {
    return `${this.#index(key.player)}/${encodeURIComponent(key.npc)}`
  }

  async getRecord(key: RecordKey): Promise<StoredRecord | undefined> {
    const h = await guard(async () => (await this.#connected(), this.#client.hGetAll(this.#recordKey(key))))
    if (!h.data || !h.version) return undefined
    return { record: JSON.parse(h.data) as unknown, version: Number(h.version) }
  }

  async putRecord(key: RecordKey, record: unknown, expected: number): Promise<boolean> {
    const ok = await guard(async () => (await this.#connected(), this.#client.eval(PUT_RECORD, { keys: [this.#recordKey(key), this.#index(key.player)], arguments: [String(expected), JSON.stringify(record), encodeURIComponent(key.npc), String(Math.max(0, Math.ceil(this.#recordTtl(key) ?? 0)))] })))
    return ok === 1
  }

  async deleteRecords(player: string, npc?: string): Promise<number> {
    const gone = await guard(async () => {
      await this.#connected()
      if (npc !== undefined) return this.#client.eval(DELETE_RECORD, { keys: [this.#recordKey({ player, npc }), this.#index(player)], arguments: [encodeURIComponent(npc)] })
      return this.#client.eval(DELETE_RECORDS, { keys: [this.#index(player)], arguments: [`${this.#index(player)}/`] })
    })
    return Number(gone)
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
