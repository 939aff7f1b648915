import OpenAI from 'openai'
import { generateText } from 'ai'
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { GlmClient, glmProvider, restoreConversation } from '@parley/engine'
import { interleave, median, startEmulatorProcess, table } from '../lib.ts'
import { shippedInformant, snapshotWithTurns, type SectionOptions, type SectionResult } from './common.ts'

/**
 * Issues 7.1 and 15.5: a whole engine turn on the informant as shipped (lore by BM25, actions
 * offered, its own history budget) against bare HTTP clients sending the identical request body.
 */
/** A question the informant's lore answers, so every request carries retrieved lore. */
const LINE = '霓虹区哪里能打听到消息？'

export async function turnSection({ quick }: SectionOptions): Promise<SectionResult> {
  const emu = await startEmulatorProcess()
  try {
    // Running summaries off: they are background calls between turns (the Summaries section counts
    // them), and a summary landing mid-run would change the body the bare clients resend.
    const shipped = await shippedInformant()
    const npc = { ...shipped, history: { ...shipped.history, summary_tokens: 0 } }
    // A save longer than the history budget, of exchanges that all look alike: the window is full
    // and every turn sends the same request, so the baselines can send it byte for byte.
    const snap = snapshotWithTurns(npc, 300, LINE, `echo: ${LINE}`)
    const bodies: string[] = []
    const capture: typeof fetch = (input, init) => {
      if (typeof init?.body === 'string') bodies.push(init.body)
      return fetch(input, init)
    }
    const probe = restoreConversation(npc, snap, { provider: glmProvider({ apiKey: emu.key, baseUrl: emu.url, fetch: capture }) })
    for (let i = 0; i < 3; i++) await probe.say(LINE)
    probe.stop()
    // Each request carries its own request_id; everything else must match.
    const same = (a: string, b: string) => a.replace(/"request_id":"[^"]*"/, '') === b.replace(/"request_id":"[^"]*"/, '')
    if (bodies.length !== 3 || !same(bodies[1]!, bodies[2]!)) throw new Error('the informant does not send the same request turn after turn; the comparison would not be like for like')
    const text = bodies[2]!
    const body = JSON.parse(text) as { messages: unknown[]; tools?: unknown[] }
    if (!body.tools?.length) throw new Error('expected the informant to offer actions')
    const convo = restoreConversation(npc, snap, { provider: glmProvider({ apiKey: emu.key, baseUrl: emu.url }) })
    const url = `${emu.url}/chat/completions`
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${emu.key}` }
    const openai = new OpenAI({ apiKey: emu.key, baseURL: emu.url })
    // The client alone, so a reading on a loaded machine can tell the client's share from the engine's.
    const client = new GlmClient({ apiKey: emu.key, baseUrl: emu.url })
    const compatible = createOpenAICompatible({ name: 'glm', baseURL: emu.url, apiKey: emu.key })
    const tasks: Record<string, () => Promise<unknown>> = {
      'raw fetch': () => fetch(url, { method: 'POST', headers, body: text }).then((r) => r.json()),
      'openai SDK': () => openai.chat.completions.create(body as never),
      'GlmClient.chat': () => client.chat(body as never),
      'parley convo.say': async () => {
        const r = await convo.say(LINE)
        if (r.kind !== 'reply') throw new Error(`turn failed: ${r.error?.code}`)
      },
    }
    if (quick) tasks['Vercel ai SDK (openai-compatible)'] = () => generateText({ model: compatible('glm-4-flash'), temperature: 0.8, messages: body.messages as never, allowSystemInMessages: true })
    const figures = await interleave('full turn, shipped informant', tasks, { rounds: quick ? 2 : 5, iterations: quick ? 200 : 1000 })
    const ours = median(figures.find((f) => f.name === 'parley convo.say')!.rounds)
    const sdk = median(figures.find((f) => f.name === 'openai SDK')!.rounds)
    const chat = median(figures.find((f) => f.name === 'GlmClient.chat')!.rounds)
    const raw = median(figures.find((f) => f.name === 'raw fetch')!.rounds)
    const ratios = figures.find((f) => f.name === 'parley convo.say')!.rounds.map((v, i) => v / figures.find((f) => f.name === 'openai SDK')!.rounds[i]!)
    return {
      markdown: `## Full turn (issues 7.1, 15.5)\n\n\`convo.say\` on the informant as shipped (GLM provider, lore by BM25, ${body.tools.length} actions offered, its own history budget, running summaries off: ${body.messages.length} messages, ${text.length} characters of body), against bare clients sending the identical body; ${quick ? 200 : 1000} interleaved turns a round:\n\n${table(figures, 'raw fetch')}`,
      // The engine's own share, apart from the client's: the client's lead over fetch must not hide it.
      reading: `Full turn on the shipped informant: ${(ours / sdk).toFixed(2)}× the openai SDK's bare call (per-round ratios ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}; goal ≤ 1.00: ${ours <= sdk ? 'met' : 'missed'}); GlmClient.chat alone ${(chat / raw).toFixed(2)}× raw fetch, ${(chat / sdk).toFixed(2)}× the SDK; the engine's own work over the client's call: ${((ours - chat) * 1000).toFixed(0)} µs per turn.`,
    }
  } finally {
    emu.stop()
  }
}
