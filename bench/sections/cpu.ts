import { restoreConversation, type Provider } from '@parley/engine'
import { fmt, median, progress } from '../lib.ts'
import { shippedInformant, snapshotWithTurns, type SectionOptions, type SectionResult } from './common.ts'

/** A provider that answers at once: what is left is the engine's own work. */
const stub: Provider = { name: 'stub', reply: async () => ({ text: '这条街上的事，我知道的不少。', finishReason: 'stop' }) }

/** Issues 5 and 7.3: engine CPU per turn, HTTP excluded, at 2, 50 and 500 turns of history. */
export async function cpuSection({ quick }: SectionOptions): Promise<SectionResult> {
  const npc = await shippedInformant()
  const sizes = [2, 50, 500]
  const rounds = quick ? 2 : 5
  const results = new Map<number, number[]>(sizes.map((s) => [s, []]))
  for (let r = 0; r < rounds; r++) {
    progress(`engine CPU per turn: round ${r + 1}/${rounds}`)
    for (const size of sizes) {
      const snap = snapshotWithTurns(npc, size, '透子最近在哪里出没？', '这条街上的事，我知道的不少。')
      const samples: number[] = []
      for (let batch = 0; batch < (quick ? 20 : 60); batch++) {
        // Fresh from the save every batch, so the history stays near its nominal size.
        const convo = restoreConversation(npc, snap, { provider: stub })
        const t0 = performance.now()
        for (let i = 0; i < 10; i++) await convo.say('透子最近在哪里出没？')
        samples.push((performance.now() - t0) / 10)
        convo.stop()
      }
      results.get(size)!.push(median(samples))
    }
  }
  const base = results.get(2)!
  const rows = sizes.map((s) => {
    const v = results.get(s)!
    const ratio = median(v.map((x, i) => x / base[i]!))
    return `| ${s} | ${fmt(median(v))} | ${fmt(Math.min(...v))} – ${fmt(Math.max(...v))} | ${ratio.toFixed(2)}× |`
  })
  const at50 = median(results.get(50)!)
  const flat = median(results.get(500)!.map((x, i) => x / results.get(50)![i]!))
  return {
    markdown: `## Engine CPU per turn (issues 5, 7.3)\n\n\`convo.say\` with a provider that answers at once (xstate machine, condition checks, prompt building, history window); on the informant as shipped (lore by BM25, actions offered); its budget is 1500 tokens, about 30 turns:\n\n| turns of history | per turn | spread | ratio to 2 turns |\n|---|---|---|---|\n${rows.join('\n')}`,
    reading: `Engine CPU: ${fmt(at50)} per turn at 50 turns (goal < 0.1 ms: ${at50 < 0.1 ? 'met' : 'missed'}); 500 turns cost ${flat.toFixed(2)}× 50 turns (${flat < 1.3 ? 'flat past the budget' : 'not flat'}).`,
  }
}
