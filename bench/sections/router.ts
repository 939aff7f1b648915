import { scriptedProvider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { createDialogueHandler as preHonoHandler } from '../baseline/handler-pre-hono.ts'
import { interleave, median, table, fmt, type Figure } from '../lib.ts'
import { informant, type SectionOptions, type SectionResult } from './common.ts'

async function drain(res: Response) {
  const reader = res.body!.getReader()
  while (!(await reader.read()).done) {
    // read to the end: the turn is done when the stream closes
  }
}

/**
 * Issue 19: what the hono router and the zod-openapi validation cost per streamed turn, against
 * the hand-routed handler they replaced (a copy of it kept in bench/baseline/, over the same
 * security pieces, store and engine), both in-process, rounds interleaved.
 */
export async function routerSection({ quick }: SectionOptions): Promise<SectionResult> {
  const npc = informant()
  const provider = scriptedProvider()
  const gameKey = 'bench-game-key-0123456789abcdef0123'
  const options = { npcs: [npc], provider, ratePerMinute: 1e9, createPerMinute: 1e9, gameKeys: [gameKey] }
  const handlers = { 'pre-hono handler': preHonoHandler(options), 'hono + zod-openapi handler': createDialogueHandler(options) }
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${gameKey}`, 'x-parley-player': 'bench-player-1' }
  const sse = { ...headers, accept: 'text/event-stream' }
  const body = JSON.stringify({ text: '你好，我在找山贼透子' })
  // Sessions of 50 turns, as in the demo server section: a store saves the whole conversation per turn.
  const SESSION = 50
  const session = (handler: (r: Request) => Promise<Response>) => {
    let current: Promise<string> | undefined
    let turns = 0
    return () => {
      if (!current || turns++ % SESSION === 0) {
        current = handler(new Request('http://bench/api/conversations', { method: 'POST', headers, body: JSON.stringify({ npc: npc.id }) })).then(async (r) => ((await r.json()) as { id: string }).id)
      }
      return current
    }
  }
  const tasks: Record<string, () => Promise<unknown>> = {}
  for (const [name, handler] of Object.entries(handlers)) {
    const id = session(handler)
    tasks[`${name}, SSE turn`] = async () => handler(new Request(`http://bench/api/conversations/${await id()}/messages`, { method: 'POST', headers: sse, body })).then(drain)
  }
  for (const [name, handler] of Object.entries(handlers)) {
    const id = session(handler)
    tasks[`${name}, GET view`] = async () => handler(new Request(`http://bench/api/conversations/${await id()}`, { headers })).then((r) => r.arrayBuffer())
  }
  try {
    const figures = await interleave('router', tasks, { rounds: quick ? 2 : 5, iterations: quick ? 200 : 1000 })
    const [oldTurn, newTurn, oldView, newView] = figures.map((f) => median(f.rounds)) as [number, number, number, number]
    const ratio = (a: Figure, b: Figure) => median(a.rounds.map((v, i) => v / b.rounds[i]!))
    const turnRatio = ratio(figures[1]!, figures[0]!)
    const viewRatio = ratio(figures[3]!, figures[2]!)
    return {
      markdown: `## HTTP router and validation (issue 19)\n\nThe handler on hono with \`@hono/zod-openapi\` (routes from schemas) against the hand-routed handler it replaced (a copy of that handler kept in \`bench/baseline/handler-pre-hono.ts\`, using the same security pieces, store and engine), in-process, one streamed turn on the scripted provider (no model latency) and one read of the conversation; rounds interleaved:\n\n${table(figures.slice(0, 2), 'pre-hono handler, SSE turn')}\n\n${table(figures.slice(2), 'pre-hono handler, GET view')}\n\nStreamed turn: ${fmt(newTurn - oldTurn)} per turn (${((turnRatio - 1) * 100).toFixed(1)}%); GET view: ${fmt(newView - oldView)} per request (${((viewRatio - 1) * 100).toFixed(1)}%).`,
      reading: `Router and validation (issue 19): hono + zod-openapi cost ${fmt(newTurn - oldTurn)} per streamed turn against the hand-routed handler (${((turnRatio - 1) * 100).toFixed(1)}%), ${fmt(newView - oldView)} per GET (${((viewRatio - 1) * 100).toFixed(1)}%).`,
    }
  } finally {
    for (const h of Object.values(handlers)) await h.close()
  }
}
