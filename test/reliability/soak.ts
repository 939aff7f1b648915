/**
 * A bounded soak: many conversations, thousands of turns on loopback, random faults injected,
 * then checks that every history is consistent and memory went back to its baseline.
 *   node --expose-gc --conditions=@parley/source --import tsx test/reliability/soak.ts [--turns N] [--conversations N] [--rounds N] [--json]
 * `pnpm soak` runs the full form; CI runs a short one (test/reliability/soak.test.ts).
 */
import { createConversation, glmProvider, restoreConversation, type Conversation } from '@parley/engine'
import { startGlmEmulator, type Fault } from '../glm-emulator/emulator.ts'
import { informant } from '../helpers/npcs.ts'
import { settledHeapBytes } from '../helpers/settled-heap.ts'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const TURNS = arg('turns', 20_000)
const CONVERSATIONS = arg('conversations', 200)
const FAULT_RATE = arg('fault-rate', 0.2)
const json = process.argv.includes('--json')
const log = (s: string) => !json && process.stdout.write(`[soak] ${s}\n`)

/** A seeded generator, so a failing soak can be replayed. */
let seed = arg('seed', 42)
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32)
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!

const FAULTS: Fault[] = [
  { status: 429, code: '1302' },
  { status: 429, code: '1305' },
  { status: 429, code: '1113' },
  { status: 500, code: '500' },
  { status: 503, code: '1305' },
  { reset: true },
  { cutAfterChunks: 1 },
  { malformedAfterChunks: 1 },
  { streamError: { code: '1301', message: 'unsafe', afterChunks: 1 } },
  { finishReason: 'sensitive' },
  { finishReason: 'length' },
  { empty: true },
  { delayMs: 5 },
]

async function heap(): Promise<number> {
  // The emulator is in this process and records every request: forget those before measuring.
  emu.requests.length = 0
  return settledHeapBytes()
}

const emu = await startGlmEmulator({ chunkSize: 3 })
emu.faultWith(() => (random() < FAULT_RATE ? pick(FAULTS) : undefined))
const npc = informant()
const provider = glmProvider({ apiKey: emu.apiKey, baseUrl: emu.url, retry: { limit: 2, baseDelayMs: 1 }, timeoutMs: 2000 })

async function round(count: number, turns: number) {
  const convos: Conversation[] = Array.from({ length: count }, () => createConversation(npc, { provider }))
  /** Lines whose turn failed: they must never be in any history. */
  const failedLines = new Set<string>()
  const succeeded = new Set<string>()
  let done = 0
  let failed = 0
  let restored = 0
  let stopped = 0
  const worker = async (w: number) => {
    while (done < turns) {
      const i = Math.floor(random() * count)
      const n = done++
      const line = `c${i}-t${n}-w${w}`
      const roll = random()
      if (roll < 0.05) {
        convos[i]!.give(pick(['gold', 'red_gem']), 1 + Math.floor(random() * 30))
        continue
      }
      if (roll < 0.08) {
        // A save and a load mid-session: the restored conversation carries on from the same state.
        const saved = JSON.parse(JSON.stringify(convos[i]!.snapshot()))
        convos[i]!.stop()
        convos[i] = restoreConversation(npc, saved, { provider })
        restored++
        continue
      }
      const convo = convos[i]!
      let result
      try {
        if (roll < 0.5) result = await convo.say(line)
        else {
          const s = convo.stream(line)
          for await (const _ of s) {
            // consume the deltas
          }
          result = await s.result
        }
      } catch {
        // The conversation was saved and replaced, or ended, while this turn waited: not committed.
        stopped++
        continue
      }
      if (result.kind === 'reply') succeeded.add(line)
      else (failed++, failedLines.add(line))
      if (convos[i]!.state === 'ended') {
        // Consecutive failures ended it; a game would open a new conversation.
        convos[i]!.stop()
        convos[i] = createConversation(npc, { provider })
      }
      if (done % 2000 === 0) log(`${done}/${turns} turns (${failed} failed, fallback shown)`)
    }
  }
  await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)))
  // Every history: player and NPC alternate, each reply answers the line before it (the emulator
  // echoes), no failed turn left a trace, no line was recorded twice, and the last turn of each
  // conversation that succeeded is there.
  let inconsistent = 0
  const seen = new Set<string>()
  convos.forEach((c) => {
    const history = c.history()
    const ok = history.every((h, k) => {
      if (h.role !== (k % 2 === 0 ? 'user' : 'assistant')) return false
      if (h.role === 'assistant') return h.content === `echo: ${history[k - 1]!.content}`
      if (failedLines.has(h.content) || !succeeded.has(h.content) || seen.has(h.content)) return false
      seen.add(h.content)
      return true
    })
    if (!ok || history.length % 2 !== 0) inconsistent++
    c.stop()
  })
  return { turns, failed, restored, stopped, inconsistent }
}

await round(20, 200) // warm up code paths before the baseline
const before = await heap()
log(`baseline heap ${(before / 2 ** 20).toFixed(1)} MB; ${TURNS} turns over ${CONVERSATIONS} conversations, ${(FAULT_RATE * 100).toFixed(0)}% of calls faulted`)
const started = Date.now()
const result = await round(CONVERSATIONS, TURNS)
const total = emu.chatRequests.length
// Memory back to its baseline: the heap after each further soak of the same size. Growth from the
// first of these to the last is what a leak would add; one-off growth (JIT code, pools, caches)
// happens in the first soak and does not repeat.
const heaps = [await heap()]
for (let i = 0; i < arg('rounds', 2); i++) {
  await round(CONVERSATIONS, TURNS)
  heaps.push(await heap())
}
await emu.close()
const summary = {
  ...result,
  conversations: CONVERSATIONS,
  requests: total,
  seconds: (Date.now() - started) / 1000,
  heapBeforeMb: before / 2 ** 20,
  heapAfterEachSoakMb: heaps.map((h) => h / 2 ** 20),
  /** What two more soaks of the same size left behind, beyond the first. */
  heapGrowthMb: (Math.max(heaps[1]!, heaps[2]!) - heaps[0]!) / 2 ** 20,
}
if (json) process.stdout.write(JSON.stringify(summary))
else log(`done: ${JSON.stringify(summary)}`)
process.exit(result.inconsistent === 0 ? 0 : 1)
