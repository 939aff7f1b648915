import { createConversation, scriptedProvider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { startDemoServer } from '../../packages/demo-web/server.ts'
import { interleave, median, table, fmt } from '../lib.ts'
import { informant, type SectionOptions, type SectionResult } from './common.ts'

async function drain(res: Response) {
  const reader = res.body!.getReader()
  while (!(await reader.read()).done) {
    // read to the end: the turn is done when the stream closes
  }
}

/** Issue 7.7: a streamed turn through the HTTP handler (in-process and over real HTTP) against the engine called directly. */
export async function serverSection({ quick }: SectionOptions): Promise<SectionResult> {
  const npc = informant()
  const provider = scriptedProvider()
  const gameKey = 'bench-game-key-0123456789abcdef0123'
  const handler = createDialogueHandler({ npcs: [npc], provider, ratePerMinute: 1e9, createPerMinute: 1e9, gameKeys: [gameKey] })
  // The game's server calling for one named player: the route a Unity client takes through it.
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${gameKey}`, 'x-parley-player': 'bench-player-1' }
  const server = await startDemoServer({ port: 0, env: { PARLEY_TYPING_MS: '0', PARLEY_RATE_PER_MINUTE: '1000000000', PARLEY_CREATE_PER_MINUTE: '1000000000', PARLEY_GAME_KEY: gameKey } })
  const base = `http://127.0.0.1:${server.port}/api`
  const sse = { ...headers, accept: 'text/event-stream' }
  const body = JSON.stringify({ text: '你好，我在找山贼透子' })
  const line = '你好，我在找山贼透子'
  // Sessions of 50 turns, a new conversation after each, for every contender alike: a store saves
  // the whole conversation per turn, so an ever-growing one would measure its length, not the HTTP layer.
  const SESSION = 50
  const session = <T>(start: () => Promise<T>) => {
    let current: Promise<T> | undefined
    let turns = 0
    return () => {
      if (!current || turns++ % SESSION === 0) current = start()
      return current
    }
  }
  const engineConvo = session(async () => createConversation(npc, { provider }))
  const inProcessId = session(async () => {
    const r = await handler(new Request('http://bench/api/conversations', { method: 'POST', headers, body: JSON.stringify({ npc: 'informant' }) }))
    return ((await r.json()) as { id: string }).id
  })
  const remoteId = session(async () => {
    const r = await fetch(`${base}/conversations`, { method: 'POST', headers, body: JSON.stringify({ npc: 'informant' }) })
    return ((await r.json()) as { id: string }).id
  })
  try {
    const figures = await interleave(
      'demo server',
      {
        'engine convo.stream': async () => {
          const s = (await engineConvo()).stream(line)
          for await (const _ of s) {
            // consume
          }
        },
        'handler in-process, SSE': async () => handler(new Request(`http://bench/api/conversations/${await inProcessId()}/messages`, { method: 'POST', headers: sse, body })).then(drain),
        'demo server over HTTP, SSE': async () => fetch(`${base}/conversations/${await remoteId()}/messages`, { method: 'POST', headers: sse, body }).then(drain),
      },
      { rounds: quick ? 2 : 5, iterations: quick ? 200 : 1000 },
    )
    const direct = median(figures[0]!.rounds)
    const viaHandler = median(figures[1]!.rounds)
    const viaHttp = median(figures[2]!.rounds)
    return {
      markdown: `## Demo server (issue 7.7)\n\nOne streamed turn on the scripted provider (no model latency), so what is measured is the engine and the HTTP layer; sessions of ${SESSION} turns; the handler loads and saves each turn through the in-memory store:\n\n${table(figures, 'engine convo.stream')}\n\nTurns per second: engine ${(1000 / direct).toFixed(0)}, handler ${(1000 / viaHandler).toFixed(0)}, over HTTP ${(1000 / viaHttp).toFixed(0)}.`,
      reading: `Demo server: the handler adds ${fmt(viaHandler - direct)} per streamed turn in-process and ${fmt(viaHttp - direct)} over real HTTP on loopback, next to model calls that take hundreds of milliseconds.`,
    }
  } finally {
    await server.close()
  }
}
