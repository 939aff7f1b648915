import { createParser } from 'eventsource-parser'
import { glmProvider, restoreConversation } from '@parley/engine'
import { messageTokens } from '@parley/engine/unstable'
import { fmt, median, progress, startEmulatorProcess } from '../lib.ts'
import { informant, snapshotWithTurns, type SectionOptions, type SectionResult } from './common.ts'

const REPLY = '想买点情报吗，陌生人？这条街上的事，我知道的不少。先说说你能拿出什么。'

/** Issue 7.2: time to the first and the last delta through convo.stream, against raw fetch + eventsource-parser. */
export async function streamSection({ quick }: SectionOptions): Promise<SectionResult> {
  const emu = await startEmulatorProcess({ EMULATOR_REPLY: REPLY, EMULATOR_CHUNK_SIZE: '2' })
  try {
    const pair = messageTokens('你好') + messageTokens(REPLY)
    const npc = informant((y) => y.replace('history: { max_tokens: 1500 }', `history: { max_tokens: ${20 * pair} }`))
    const convo = restoreConversation(npc, snapshotWithTurns(npc, 20, '你好', REPLY), { provider: glmProvider({ apiKey: emu.key, baseUrl: emu.url }) })
    const body = JSON.stringify({ model: 'glm-4-flash', temperature: 0.8, stream: true, messages: convo.messages('你好') })
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${emu.key}` }

    const raw = async () => {
      const t0 = performance.now()
      let first = 0
      const res = await fetch(`${emu.url}/chat/completions`, { method: 'POST', headers, body })
      let done = false
      const parser = createParser({
        onEvent: (e) => {
          if (e.data === '[DONE]') done = true
          else if (!first && JSON.parse(e.data).choices[0].delta.content) first = performance.now() - t0
        },
      })
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
      while (!done) {
        const { value, done: end } = await reader.read()
        if (end) break
        parser.feed(value)
      }
      return [first, performance.now() - t0] as const
    }
    const ours = async () => {
      const t0 = performance.now()
      let first = 0
      const s = convo.stream('你好')
      for await (const _ of s) if (!first) first = performance.now() - t0
      await s.result
      return [first, performance.now() - t0] as const
    }
    const rounds = quick ? 2 : 5
    const per = quick ? 100 : 300
    const data = { raw: { first: [] as number[], last: [] as number[] }, ours: { first: [] as number[], last: [] as number[] } }
    for (let i = 0; i < 30; i++) (await raw(), await ours())
    for (let r = 0; r < rounds; r++) {
      progress(`streaming: round ${r + 1}/${rounds}`)
      for (const [name, fn] of [['raw', raw], ['ours', ours]] as const) {
        const firsts: number[] = []
        const lasts: number[] = []
        for (let i = 0; i < per; i++) {
          const [f, l] = await fn()
          firsts.push(f)
          lasts.push(l)
        }
        data[name].first.push(median(firsts))
        data[name].last.push(median(lasts))
      }
    }
    const diff = (k: 'first' | 'last') => data.ours[k].map((v, i) => v - data.raw[k][i]!)
    const row = (label: string, k: 'first' | 'last') =>
      `| ${label} | ${fmt(median(data.raw[k]))} | ${fmt(median(data.ours[k]))} | ${fmt(median(diff(k)))} (${fmt(Math.min(...diff(k)))} – ${fmt(Math.max(...diff(k)))}) | ${median(data.ours[k].map((v, i) => v / data.raw[k][i]!)).toFixed(2)}× |`
    const firstGap = median(diff('first'))
    return {
      markdown: `## Streaming (issue 7.2)\n\n${REPLY.length} characters in 2-character chunks, 20 turns of history; medians of ${per} turns per round, ${rounds} rounds:\n\n| | raw fetch + eventsource-parser | parley convo.stream | parley − raw (spread) | ratio |\n|---|---|---|---|---|\n${row('first delta', 'first')}\n${row('last delta', 'last')}`,
      reading: `Streaming: the first delta reaches the game ${fmt(firstGap)} after raw fetch + eventsource-parser's (goal: within 0.5 ms; ${firstGap <= 0.5 ? 'met' : 'missed'}).`,
    }
  } finally {
    emu.stop()
  }
}
