import { describe, expect, it } from 'vitest'
import { parseNpc } from '../content/parse.ts'
import { History } from '../prompt/history.ts'
import { estimateTokens } from '../prompt/tokens.ts'
import { backoffTurns, dueSpan, spanRequest, withSummary } from './running-summary.ts'
import { emptyData, type ConversationData } from './state.ts'

const npc = parseNpc(
  `id: keeper
name: 守塔人
persona: 你是守塔人。
lines: { nudge: 嗯？, fallback: 没听清。, farewell: 再见。 }
history: { max_tokens: 200, summary_tokens: 40 }
secrets:
  - { id: vault, fact: 金库在地下三层。, unlock: { given: key } }
items: { key: { name: 钥匙 } }
`,
  'keeper.yaml',
)

function talk(turns: number): ConversationData {
  let history = History.empty
  for (let i = 0; i < turns; i++) history = history.append({ role: 'user', content: `第${i}句：今晚的雾会散吗？` }, { role: 'assistant', content: '不好说，再等等。' })
  return { ...emptyData, history, turns }
}

describe('the running summary\'s fold', () => {
  it('is not due while the whole history fits the window', () => {
    expect(dueSpan(npc, talk(3))).toBeUndefined()
  })

  it('once the window overflows, folds the oldest whole exchanges until what is left fits half the window', () => {
    const data = talk(20)
    const span = dueSpan(npc, data)!
    expect(span.from).toBe(0)
    expect(span.to % 2).toBe(0)
    expect(span.turns).toBe(span.to / 2)
    expect(data.history.fitsFrom(100, span.to)).toBe(true)
    expect(data.history.fitsFrom(100, span.to - 2)).toBe(false)
  })

  it('asks with what was said and the summary so far, nothing else: no secret, no persona', () => {
    const data = { ...talk(20), summary: { text: '玩家问过雾。', covers: 4, turns: 2 } }
    const span = dueSpan(npc, data)!
    expect(span.from).toBe(4)
    const request = spanRequest(npc, data, span, 'player-0001')
    expect(request).toMatchObject({ purpose: 'history', previous: '玩家问过雾。', maxTokens: 40, userId: 'player-0001', npc: { id: 'keeper', name: '守塔人' } })
    expect(request.entries).toEqual(data.history.slice(4, span.to))
    expect(JSON.stringify(request)).not.toContain('金库')
  })

  it('lands on the data as it is, however far the talk moved on; a summary written from a replaced one is dropped; the text is held to its budget', () => {
    const data = talk(20)
    const span = dueSpan(npc, data)!
    const later = talk(35)
    const landed = withSummary(npc, later, span, '很长的回忆。'.repeat(50))!
    expect(landed.summary).toMatchObject({ covers: span.to, turns: span.turns })
    expect(estimateTokens(landed.summary!.text)).toBeLessThanOrEqual(40)
    expect(landed.history).toBe(later.history)
    expect(withSummary(npc, landed, span, '又一份')).toBeUndefined()
  })

  it('backs off 1, 2, 4, 8, then 16 turns between failed calls, for as long as they fail', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(backoffTurns)).toEqual([1, 2, 4, 8, 16, 16, 16])
  })
})
