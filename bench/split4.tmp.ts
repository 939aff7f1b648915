import OpenAI from 'openai'
import { glmProvider, messageTokens, restoreConversation } from '@parley/engine'
import { startEmulatorProcess, median } from './lib.ts'
import { informant, snapshotWithTurns } from './sections/common.ts'
const emu = await startEmulatorProcess()
const pair = messageTokens('你好') + messageTokens('echo: 你好')
const npc = informant((y) => y.replace('history: { max_tokens: 1500 }', `history: { max_tokens: ${20 * pair} }`))
const convo = restoreConversation(npc, snapshotWithTurns(npc, 20), { provider: glmProvider({ apiKey: emu.key, baseUrl: emu.url }) })
const body = { model: 'glm-4-flash', temperature: 0.8, messages: convo.messages('你好') }
const openai = new OpenAI({ apiKey: emu.key, baseURL: emu.url })
const rawBody = JSON.stringify(body)
const a: number[] = [], b: number[] = [], c: number[] = []
for (let i = 0; i < 6000; i++) {
  const t0 = performance.now(); await convo.say('你好')
  const t1 = performance.now(); await openai.chat.completions.create(body as never)
  const t2 = performance.now(); await fetch(`${emu.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${emu.key}` }, body: rawBody }).then((r) => r.json())
  const t3 = performance.now()
  if (i > 1000) { a.push(t1 - t0); b.push(t2 - t1); c.push(t3 - t2) }
}
const f = (x: number[]) => (median(x) * 1000).toFixed(0) + 'µs'
console.log('convo.say', f(a), 'openai', f(b), 'raw', f(c), 'say/openai', (median(a) / median(b)).toFixed(2))
emu.stop(); process.exit(0)
