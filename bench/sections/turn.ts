import OpenAI from 'openai'
import { generateText } from 'ai'
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { glmProvider, messageTokens, restoreConversation } from '@parley/engine'
import { interleave, median, startEmulatorProcess, table } from '../lib.ts'
import { informant, snapshotWithTurns, type SectionOptions, type SectionResult } from './common.ts'

/** Issue 7.1: a whole engine turn against bare HTTP clients sending the identical messages. */
export async function turnSection({ quick }: SectionOptions): Promise<SectionResult> {
  const emu = await startEmulatorProcess()
  try {
    // A budget of exactly 20 exchanges, and exchanges that all look alike: every turn then sends
    // the same 20-turn request, so the baselines can send byte-identical messages.
    const pair = messageTokens('你好') + messageTokens('echo: 你好')
    const npc = informant((y) => y.replace('history: { max_tokens: 1500 }', `history: { max_tokens: ${20 * pair} }`))
    const convo = restoreConversation(npc, snapshotWithTurns(npc, 20), { provider: glmProvider({ apiKey: emu.key, baseUrl: emu.url }) })
    const messages = convo.messages('你好')
    if (messages.length !== 1 + 2 + 40 + 1) throw new Error(`expected a 20-turn request, got ${messages.length} messages`)
    const body = { model: 'glm-4-flash', temperature: 0.8, messages }
    const url = `${emu.url}/chat/completions`
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${emu.key}` }
    const openai = new OpenAI({ apiKey: emu.key, baseURL: emu.url })
    const compatible = createOpenAICompatible({ name: 'glm', baseURL: emu.url, apiKey: emu.key })
    const figures = await interleave(
      'full turn, 20 turns of history',
      {
        'raw fetch': () => fetch(url, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => r.json()),
        'openai SDK': () => openai.chat.completions.create(body as never),
        'Vercel ai SDK (openai-compatible)': () => generateText({ model: compatible('glm-4-flash'), temperature: 0.8, messages: messages as never, allowSystemInMessages: true }),
        'parley convo.say': async () => {
          const r = await convo.say('你好')
          if (r.kind !== 'reply') throw new Error(`turn failed: ${r.error?.code}`)
        },
      },
      { rounds: quick ? 2 : 5, iterations: quick ? 200 : 1000 },
    )
    const ours = median(figures.find((f) => f.name === 'parley convo.say')!.rounds)
    const sdk = median(figures.find((f) => f.name === 'openai SDK')!.rounds)
    return {
      markdown: `## Full turn (issue 7.1)\n\n\`convo.say\` with the GLM provider and 20 turns of history, against bare clients sending the identical ${messages.length} messages:\n\n${table(figures, 'raw fetch')}`,
      reading: `Full turn: the whole engine (machine, prompt, secrets, client) costs ${(ours / sdk).toFixed(2)}× the openai SDK's bare call (${ours <= sdk ? 'goal met' : 'goal missed'}).`,
    }
  } finally {
    emu.stop()
  }
}
