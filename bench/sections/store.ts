import { startDemoServer } from '../../packages/demo-web/server.ts'
import { RedisProcess, REDIS_SERVER } from '../../test/helpers/redis.ts'
import { median, progress } from '../lib.ts'
import type { SectionOptions, SectionResult } from './common.ts'

type Server = Awaited<ReturnType<typeof startDemoServer>>
const GAME_KEY = 'bench-game-key-0123456789abcdef0123'

/** Turns per second through the demo server: in-memory store against Redis, one and two servers. */
async function turnsPerSecond(servers: Server[], seconds: number): Promise<number> {
  // The game's server calling for one named player, so every server accepts the calls.
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${GAME_KEY}`, 'x-parley-player': `bench-store-${Math.random().toString(36).slice(2)}` }
  const base = (s: Server) => `http://127.0.0.1:${s.port}/api`
  const ids: string[] = []
  for (let i = 0; i < 16; i++) {
    const r = await fetch(`${base(servers[i % servers.length]!)}/conversations`, { method: 'POST', headers, body: JSON.stringify({ npc: 'informant' }) })
    ids.push(((await r.json()) as { id: string }).id)
  }
  let turns = 0
  const until = performance.now() + seconds * 1000
  // 16 players, each talking to one conversation, their requests spread over the servers.
  await Promise.all(
    ids.map(async (id, i) => {
      for (let t = 0; performance.now() < until; t++) {
        const server = servers[(i + t) % servers.length]!
        const r = await fetch(`${base(server)}/conversations/${id}/messages`, { method: 'POST', headers, body: JSON.stringify({ text: '你好，我在找山贼透子' }) })
        if (r.status !== 200) throw new Error(`turn failed: ${r.status} ${await r.text()}`)
        await r.arrayBuffer()
        turns++
      }
    }),
  )
  return turns / seconds
}

export async function storeSection({ quick }: SectionOptions): Promise<SectionResult> {
  if (!REDIS_SERVER) return { markdown: '## Conversation store (issue 11)\n\nSkipped: redis-server is not installed (`node scripts/ensure-system.mjs`).' }
  const redis = await new RedisProcess().start()
  const env = { PARLEY_TYPING_MS: '0', PARLEY_RATE_PER_MINUTE: '100000000', PARLEY_CREATE_PER_MINUTE: '100000000', PARLEY_GAME_KEY: GAME_KEY }
  const rounds = quick ? 2 : 3
  const seconds = quick ? 1 : 2
  const results: Record<string, number[]> = { 'memory, 1 server': [], 'redis, 1 server': [], 'redis, 2 servers': [] }
  try {
    for (let r = 0; r < rounds; r++) {
      progress(`store: round ${r + 1}/${rounds}`)
      const memory = await startDemoServer({ port: 0, env })
      results['memory, 1 server']!.push(await turnsPerSecond([memory], seconds))
      await memory.close()
      const one = await startDemoServer({ port: 0, env: { ...env, REDIS_URL: redis.url } })
      results['redis, 1 server']!.push(await turnsPerSecond([one], seconds))
      const two = await startDemoServer({ port: 0, env: { ...env, REDIS_URL: redis.url } })
      results['redis, 2 servers']!.push(await turnsPerSecond([one, two], seconds))
      await Promise.all([one.close(), two.close()])
    }
  } finally {
    await redis.dispose()
  }
  const base = results['memory, 1 server']!
  const rows = Object.entries(results).map(([name, xs]) => `| ${name} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} – ${Math.max(...xs).toFixed(0)} | ${median(xs.map((x, i) => x / base[i]!)).toFixed(2)}× |`)
  const redisOne = median(results['redis, 1 server']!)
  return {
    markdown: `## Conversation store (issue 11)\n\nTurns per second through the demo server over HTTP (scripted provider, 16 players at once, each turn loads the conversation, runs it and saves it with a compare-and-set). The two servers run in this one process here, so they share its CPU:\n\n| store | turns/s | spread | ratio to memory |\n|---|---|---|---|\n${rows.join('\n')}`,
    reading: `Store: Redis serves ${redisOne.toFixed(0)} turns/s on one server, ${(redisOne / median(base)).toFixed(2)}× the in-memory store; any server can now answer any conversation.`,
  }
}
