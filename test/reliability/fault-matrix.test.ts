import { describe, expect, it } from 'vitest'
import { createConversation, glmProvider, restoreConversation, type Conversation, type GlmProviderOptions } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { type Fault } from '../glm-emulator/emulator.ts'
import { informant } from '../helpers/npcs.ts'
import { useEmulator } from '../helpers/emulator.ts'

interface Case {
  name: string
  fault: Fault | 'refused'
  code: string
  glmCode?: string
  /** Worth retrying: one occurrence is absorbed by a retry. */
  retryable: boolean
  streamOnly?: boolean
}

const MATRIX: Case[] = [
  { name: '429 / 1302 concurrency', fault: { status: 429, code: '1302' }, code: 'http', glmCode: '1302', retryable: true },
  { name: '429 / 1303 rate', fault: { status: 429, code: '1303' }, code: 'http', glmCode: '1303', retryable: true },
  { name: '429 / 1305 overloaded', fault: { status: 429, code: '1305' }, code: 'http', glmCode: '1305', retryable: true },
  { name: '429 / 1304 daily quota', fault: { status: 429, code: '1304' }, code: 'http', glmCode: '1304', retryable: false },
  { name: '429 / 1113 balance exhausted', fault: { status: 429, code: '1113' }, code: 'http', glmCode: '1113', retryable: false },
  { name: '500', fault: { status: 500, code: '500' }, code: 'http', glmCode: '500', retryable: true },
  { name: '503', fault: { status: 503, code: '1305' }, code: 'http', glmCode: '1305', retryable: true },
  { name: 'connection reset', fault: { reset: true }, code: 'network', retryable: true },
  { name: 'connection refused', fault: 'refused', code: 'network', retryable: true },
  { name: 'slow first byte past the timeout', fault: { delayMs: 1200 }, code: 'timeout', retryable: true },
  { name: 'stream cut mid-way', fault: { cutAfterChunks: 2 }, code: 'stream_interrupted', retryable: false, streamOnly: true },
  { name: 'malformed SSE chunk', fault: { malformedAfterChunks: 1 }, code: 'stream_interrupted', retryable: false, streamOnly: true },
  { name: 'error object inside the stream', fault: { streamError: { code: '1301', message: '系统检测到输入或生成内容可能包含不安全或敏感内容', afterChunks: 1 } }, code: 'stream_error', glmCode: '1301', retryable: false, streamOnly: true },
  { name: 'finish_reason sensitive', fault: { finishReason: 'sensitive' }, code: 'sensitive', retryable: false },
  { name: 'finish_reason length', fault: { finishReason: 'length' }, code: 'length', retryable: false },
  { name: 'empty reply', fault: { empty: true }, code: 'empty_reply', retryable: false },
]

const emulator = useEmulator({ chunkSize: 2, reply: () => '这条街上的事，我知道的不少。' })

const options = (c: Case): GlmProviderOptions => ({
  apiKey: emulator().apiKey,
  baseUrl: c.fault === 'refused' ? 'http://127.0.0.1:9/api/paas/v4' : emulator().url,
  retry: { limit: 2, baseDelayMs: 1 },
  timeoutMs: 400,
})

const committed = (c: Conversation) => ({ history: c.history(), items: c.items(), flags: c.flags(), unlocked: c.unlocked(), turns: c.turns })

/**
 * A conversation with some of everything (history, a gift, a flag, an unlocked secret), saved and
 * continued on a provider pointed at the fault.
 */
async function seasoned(c: Case): Promise<Conversation> {
  const healthy = createConversation(informant(), { provider: glmProvider({ ...options(c), baseUrl: emulator().url }) })
  await healthy.say('你好，我在找山贼透子')
  healthy.give('gold', 50)
  healthy.setFlag('met_bandits')
  await healthy.say('透子在哪？')
  const snapshot = healthy.snapshot()
  healthy.stop()
  emulator().reset()
  return restoreConversation(informant(), snapshot, { provider: glmProvider(options(c)) })
}

async function turn(convo: Conversation, mode: 'say' | 'stream') {
  if (mode === 'say') return convo.say('幕后BOSS在哪？')
  const s = convo.stream('幕后BOSS在哪？')
  for await (const _ of s) {
    // deltas before a failure are replaced by the fallback line when the turn completes
  }
  return s.result
}

describe.each(['say', 'stream'] as const)('fault matrix through the engine (%s)', (mode) => {
  for (const c of MATRIX.filter((m) => mode === 'stream' || !m.streamOnly)) {
    it(`${c.name}: the player sees the fallback line, the game sees the code, nothing changes`, async () => {
      const convo = await seasoned(c)
      const before = committed(convo)
      if (c.fault !== 'refused') emulator().faultWith(() => c.fault as Fault)
      const r = await turn(convo, mode)
      expect(r.kind).toBe('fallback')
      expect(r.text).toBe('抱歉，刚才我打盹了，我再试试')
      expect(r.error).toMatchObject({ code: c.code, ...(c.glmCode && { glmCode: c.glmCode }) })
      expect(committed(convo)).toEqual(before)
      if (c.fault !== 'refused') expect(emulator().chatRequests.length).toBe(c.retryable ? 3 : 1)
      convo.stop()
    })

    if (c.retryable && c.fault !== 'refused') {
      it(`${c.name} once: the retry succeeds and the turn appears once`, async () => {
        const convo = await seasoned(c)
        const before = committed(convo)
        emulator().fault(c.fault as Fault)
        const r = await turn(convo, mode)
        expect(r.kind).toBe('reply')
        expect(convo.history()).toEqual([...before.history, { role: 'user', content: '幕后BOSS在哪？' }, { role: 'assistant', content: '这条街上的事，我知道的不少。' }])
        expect(new Set(emulator().chatRequests.map((q) => q.body.request_id)).size).toBe(1)
        convo.stop()
      })
    }
  }
})

describe('fault matrix through the demo server\'s handler', () => {
  for (const c of MATRIX) {
    it(`${c.name}: JSON and SSE answer with the fallback line and a code, no raw error text`, async () => {
      const handler = createDialogueHandler({ npcs: [informant()], provider: glmProvider(options(c)), ratePerMinute: 1000, gameKeys: ['fault-matrix-game-key-0123456789'] })
      // The game's server: it gives the gold and reads the inspector view; lines go through it too.
      const headers = { 'content-type': 'application/json', authorization: 'Bearer fault-matrix-game-key-0123456789' }
      const call = (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
        handler(new Request(`http://t/api${path}`, { method, headers: { ...headers, ...extra }, ...(body !== undefined && { body: JSON.stringify(body) }) }))
      const { id } = (await (await call('POST', '/conversations', { npc: 'informant' })).json()) as { id: string }
      await call('POST', `/conversations/${id}/items`, { item: 'gold', count: 50 })
      const before = (await (await call('GET', `/conversations/${id}`)).json()) as Record<string, unknown>
      if (c.fault !== 'refused') emulator().faultWith(() => c.fault as Fault)
      const accept: Record<string, string> = c.streamOnly ? { accept: 'text/event-stream' } : {}
      const res = await call('POST', `/conversations/${id}/messages`, { text: '幕后BOSS在哪？' }, accept)
      const text = await res.text()
      const done = c.streamOnly ? JSON.parse(/event: done\ndata: (.*)/.exec(text)![1]!) : JSON.parse(text)
      expect(res.status).toBe(200)
      expect(done).toMatchObject({ text: '抱歉，刚才我打盹了，我再试试', kind: 'fallback', error: { code: c.code } })
      expect(text).not.toMatch(/Error:|\n\s+at |余额不足|不安全|ECONNRE/)
      const after = (await (await call('GET', `/conversations/${id}`)).json()) as Record<string, unknown>
      // Only the last request changed (it was sent); the explanation of the state did not.
      expect({ ...after, lastRequest: null, explain: null }).toEqual({ ...before, lastRequest: null, explain: null })
      const why = (v: Record<string, any>) => ({ next: v.explain.next, secrets: v.explain.secrets.map((s: Record<string, unknown>) => ({ ...s, lastCarried: null })) })
      expect(why(after)).toEqual(why(before))
    })
  }
})
