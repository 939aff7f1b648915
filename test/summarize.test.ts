import { describe, expect, it } from 'vitest'
import { glmProvider } from '@parley/engine'
import { estimateTokens } from '@parley/engine/unstable'
import { useEmulator } from './helpers/emulator.ts'

const emulator = useEmulator()
const request = (maxTokens: number) => ({
  purpose: 'memory' as const,
  npc: { id: 'informant', name: '线人' },
  entries: [
    { role: 'user' as const, content: '我叫林小雨' },
    { role: 'assistant' as const, content: '记住了。' },
  ],
  maxTokens,
  model: { name: 'glm-4.7' },
  signal: new AbortController().signal,
  userId: 'player-000001',
})

describe('the GLM provider summarises', () => {
  it('with one non-streamed call: a system message, the transcript, thinking off, the player as user_id', async () => {
    const emu = emulator()
    const result = await glmProvider({ apiKey: emu.apiKey, baseUrl: emu.url }).summarize!(request(200))
    expect(result.text).toContain('林小雨')
    expect(result.usage?.total_tokens).toBeGreaterThan(0)
    const [sent] = emu.chatRequests
    expect(sent!.body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user'])
    expect(sent!.body.stream).toBeFalsy()
    expect(sent!.body.thinking).toEqual({ type: 'disabled' })
    expect(sent!.body.user_id).toBe('player-000001')
  })

  it('clips a summary that overruns its budget', async () => {
    const emu = emulator()
    emu.reply = () => '他叫林小雨。'.repeat(100)
    const result = await glmProvider({ apiKey: emu.apiKey, baseUrl: emu.url }).summarize!(request(30))
    expect(estimateTokens(result.text)).toBeLessThanOrEqual(30)
  })

  it('a content-safety stop is a failure, not a memory', async () => {
    const emu = emulator()
    emu.reply = () => ({ content: '半句', finishReason: 'sensitive' })
    await expect(glmProvider({ apiKey: emu.apiKey, baseUrl: emu.url }).summarize!(request(30))).rejects.toMatchObject({ code: 'provider_failed', kind: 'sensitive' })
  })
})
