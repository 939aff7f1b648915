import { describe, expect, it } from 'vitest'
import { estimateTokens } from '../prompt/tokens.ts'
import type { HistoryEntry } from '../prompt/history.ts'
import { scriptedSummary } from './scripted-summary.ts'

const model = { name: 'glm-4.7' }
const exchange = (line: string): HistoryEntry[] => [
  { role: 'user', content: line },
  { role: 'assistant', content: `回答：${line}` },
]
const request = (entries: HistoryEntry[], previous?: string, maxTokens = 60) => ({ purpose: 'history' as const, npc: { id: 'x', name: '线人' }, entries, previous, maxTokens, model, signal: new AbortController().signal })

describe('the scripted summariser', () => {
  it('is deterministic and keeps what the player said', () => {
    const entries = [...exchange('我叫林小雨'), ...exchange('你好')]
    const a = scriptedSummary(request(entries))
    expect(a).toEqual(scriptedSummary(request(entries)))
    expect(a.text).toContain('林小雨')
    expect(a.text).not.toContain('回答')
  })

  it('folded over and over, stays within budget and keeps the first thing said and the newest', () => {
    let summary = scriptedSummary(request(exchange('我叫林小雨，记住我的名字'))).text
    for (let i = 0; i < 200; i++) {
      summary = scriptedSummary(request(exchange(`第${i}件事`), summary)).text
      expect(estimateTokens(summary)).toBeLessThanOrEqual(60)
    }
    expect(summary).toContain('林小雨')
    expect(summary).toContain('第199件事')
  })
})
