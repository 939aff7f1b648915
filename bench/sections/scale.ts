import { createConversation, glmProvider, type Conversation } from '@parley/engine'
import { fmt, percentile, progress, startEmulatorProcess } from '../lib.ts'
import { settledHeapBytes } from '../../test/helpers/settled-heap.ts'
import { informant, type SectionOptions, type SectionResult } from './common.ts'


/** Issue 7.5: 10,000 conversations in one process, idle and then with 100 turns in flight at once. */
export async function scaleSection({ quick }: SectionOptions): Promise<SectionResult> {
  const n = quick ? 2_000 : 10_000
  const emu = await startEmulatorProcess()
  try {
    const npc = informant()
    const provider = glmProvider({ apiKey: emu.key, baseUrl: emu.url, timeoutMs: 30_000 })
    const before = await settledHeapBytes()
    const convos: Conversation[] = []
    for (let i = 0; i < n; i++) convos.push(createConversation(npc, { provider }))
    const idle = (await settledHeapBytes() - before) / n
    progress(`scale: ${n} idle conversations, ${(idle / 1024).toFixed(1)} KB each`)

    const latencies: number[] = []
    let errors = 0
    let next = 0
    const t0 = performance.now()
    const worker = async () => {
      while (next < n) {
        const c = convos[next++]!
        const s = performance.now()
        const r = await c.say('你好，我在找山贼透子')
        latencies.push(performance.now() - s)
        if (r.kind !== 'reply') errors++
        if (latencies.length % 2000 === 0) progress(`scale: ${latencies.length}/${n} turns`)
      }
    }
    await Promise.all(Array.from({ length: 100 }, worker))
    const seconds = (performance.now() - t0) / 1000
    const busy = (await settledHeapBytes() - before) / n
    for (const c of convos) c.stop()
    return {
      markdown: `## Scale (issue 7.5)\n\n${n.toLocaleString('en')} conversations in one Node process; then one turn each, 100 in flight at once, against the emulator:\n\n| figure | value |\n|---|---|\n| heap per idle conversation | ${(idle / 1024).toFixed(1)} KB |\n| heap per conversation after one turn | ${(busy / 1024).toFixed(1)} KB |\n| turns per second (100 in flight) | ${(n / seconds).toFixed(0)} |\n| turn latency p50 / p99 | ${fmt(percentile(latencies, 50))} / ${fmt(percentile(latencies, 99))} |\n| failed turns | ${errors} |`,
      reading: `Scale: ${(idle / 1024).toFixed(1)} KB heap per idle conversation (goal < 20 KB: ${idle < 20 * 1024 ? 'met' : 'missed'}), ${errors} failed turns of ${n.toLocaleString('en')}, ${(n / seconds).toFixed(0)} turns/s with 100 in flight.`,
    }
  } finally {
    emu.stop()
  }
}
