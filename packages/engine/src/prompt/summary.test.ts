import { describe, expect, it } from 'vitest'
import { clipToTokens, summaryMessages } from './summary.ts'
import { estimateTokens } from './tokens.ts'

describe('summary requests', () => {
  it('are one system message then the transcript, with the earlier summary and tool exchanges as notes', () => {
    const messages = summaryMessages({
      purpose: 'memory',
      npc: { id: 'informant', name: '线人' },
      previous: '玩家叫林小雨。',
      entries: [
        { role: 'user', content: '给你地图' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'give_map', arguments: '{}' } }] },
        { role: 'tool', content: '{"status":"done"}', tool_call_id: 'c1' },
        { role: 'assistant', content: '拿去吧。' },
      ],
      maxTokens: 120,
      model: { name: 'glm-4.7' },
      signal: new AbortController().signal,
    })
    expect(messages.map((m) => m.role)).toEqual(['system', 'user'])
    expect(messages[0]!.content).toContain('120')
    expect(messages[1]!.content).toContain('玩家叫林小雨。')
    expect(messages[1]!.content).toContain('玩家：给你地图')
    expect(messages[1]!.content).toContain('give_map')
    expect(messages[1]!.content).toContain('线人：拿去吧。')
    expect(messages[1]!.content).not.toContain('"status"')
  })

  it('a summary over its budget is cut to it, at a sentence end when one is near', () => {
    const long = '第一句话很短。'.repeat(40)
    const clipped = clipToTokens(long, 50)
    expect(estimateTokens(clipped)).toBeLessThanOrEqual(50)
    expect(clipped.endsWith('。')).toBe(true)
    expect(clipToTokens('short', 50)).toBe('short')
  })
})
