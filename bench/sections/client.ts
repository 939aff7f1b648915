import OpenAI from 'openai'
import ky from 'ky'
import { createGlmClient, type ChatRequest } from '@parley/engine'
import { interleave, startEmulatorProcess, table, median } from '../lib.ts'
import type { SectionOptions, SectionResult } from './common.ts'

/** Issue 4: the bare GLM client against raw fetch, ky alone and the openai SDK, one identical request. */
export async function clientSection({ quick }: SectionOptions): Promise<SectionResult> {
  const emu = await startEmulatorProcess()
  try {
    const body: ChatRequest = {
      model: 'glm-4-flash',
      temperature: 0.8,
      messages: [
        { role: 'system', content: '你现在是一个赛博朋克世界的游戏NPC，玩家会向你打听情报。' },
        { role: 'user', content: '你好，我在找山贼透子' },
      ],
    }
    const url = `${emu.url}/chat/completions`
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${emu.key}` }
    const ours = createGlmClient({ apiKey: emu.key, baseUrl: emu.url })
    const openai = new OpenAI({ apiKey: emu.key, baseURL: emu.url, maxRetries: 2 })
    const kyBare = ky.create({ prefixUrl: emu.url, retry: 0 })
    const figures = await interleave(
      'client, non-streaming',
      {
        'raw fetch': () => fetch(url, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) => r.json()),
        'ky (no retry, no hooks)': () => kyBare.post('chat/completions', { headers, body: JSON.stringify(body) }).json(),
        'openai SDK': () => openai.chat.completions.create(body as never),
        'parley GlmClient.chat': () => ours.chat(body),
      },
      { rounds: quick ? 2 : 5, iterations: quick ? 200 : 1000 },
    )
    const first = await interleave(
      'client, streaming first delta',
      {
        'raw fetch': async () => {
          const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ ...body, stream: true }) })
          const reader = r.body!.getReader()
          await reader.read()
          await reader.cancel()
        },
        'openai SDK': async () => {
          const stream = await openai.chat.completions.create({ ...(body as object), stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)
          for await (const _ of stream) break
        },
        'parley GlmClient.chatStream': async () => {
          for await (const e of ours.chatStream(body)) if (e.type === 'delta') break
        },
      },
      { rounds: quick ? 2 : 5, iterations: quick ? 200 : 1000 },
    )
    const ourCall = median(figures.find((f) => f.name === 'parley GlmClient.chat')!.rounds)
    const sdkCall = median(figures.find((f) => f.name === 'openai SDK')!.rounds)
    return {
      markdown: `## GLM client (issue 4)\n\nOne non-streaming chat call, identical body, echo reply:\n\n${table(figures, 'raw fetch')}\n\nStreaming, time to the first delta:\n\n${table(first, 'raw fetch')}`,
      reading: `GLM client: a chat call costs ${(ourCall / sdkCall).toFixed(2)}× the openai SDK's (${ourCall <= sdkCall ? 'no slower: goal met' : 'slower: goal missed'}), keeping ky's retries, timeouts and Retry-After handling.`,
    }
  } finally {
    emu.stop()
  }
}
