import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from 'redis'
import { afterAll, beforeAll } from 'vitest'
import { freePort } from './net.ts'

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p))

/**
 * A real redis-server on a free loopback port, with append-only persistence in a temp folder, so
 * a restart keeps the data as a production Redis with AOF would.
 */
export class RedisProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'parley-redis-'))
  port = 0
  #child: ChildProcess | undefined

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    if (!REDIS_SERVER) throw new Error('redis-server not found: apt-get install -y redis-server (scripts/ensure-system.mjs does it)')
    if (!this.port) this.port = await freePort()
    this.#child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'], { stdio: 'ignore' })
    for (let i = 0; i < 100; i++) {
      const client = createClient({ url: this.url, socket: { reconnectStrategy: false } })
      client.on('error', () => {})
      try {
        await client.connect()
        await client.ping()
        await client.quit()
        return this
      } catch {
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`)
  }

  async stop(): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** One Redis server for a describe block (started before its tests, disposed after): read it through the getter. */
export function useRedis(): () => RedisProcess {
  let redis: RedisProcess | undefined
  beforeAll(async () => {
    redis = await new RedisProcess().start()
  }, 30_000)
  afterAll(async () => {
    await redis?.dispose()
  })
  return () => redis!
}
