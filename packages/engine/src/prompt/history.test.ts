import { describe, expect, it } from 'vitest'
import { History, type HistoryEntry } from './history.ts'
import { messageTokens } from './tokens.ts'

/** The window as defined: the newest whole exchanges whose tokens fit, walked back from scratch. */
function expectedWindow(exchanges: HistoryEntry[][], budget: number): HistoryEntry[] {
  const kept: HistoryEntry[][] = []
  let used = 0
  for (let i = exchanges.length - 1; i >= 0; i--) {
    const tokens = exchanges[i]!.reduce((sum, m) => sum + messageTokens(m.content), 0)
    if (used + tokens > budget) break
    used += tokens
    kept.unshift(exchanges[i]!)
  }
  return kept.flat()
}

function exchange(i: number): HistoryEntry[] {
  // Lengths that vary, and every seventh reply far longer than the budget below, so the window
  // grows, shrinks and empties.
  const reply = i % 7 === 3 ? '长'.repeat(400) : '好'.repeat(1 + ((i * 37) % 60))
  return [
    { role: 'user', content: `第${i}句：${'问'.repeat(i % 11)}` },
    { role: 'assistant', content: reply },
  ]
}

describe('History.recent', () => {
  it('the window carried from turn to turn is the window walked from scratch, turn after turn', () => {
    const budget = 180
    const exchanges: HistoryEntry[][] = []
    let history = History.empty
    for (let i = 0; i < 120; i++) {
      exchanges.push(exchange(i))
      // The player's line and the reply recorded apart, as a turn records them.
      history = history.append(exchanges[i]![0]!).append(exchanges[i]![1]!)
      const want = expectedWindow(exchanges, budget)
      expect(history.recent(budget)).toEqual(want)
      expect(history.recentTokens(budget)).toBe(want.reduce((sum, m) => sum + messageTokens(m.content), 0))
      // A one-off budget asked after the NPC's own does not disturb the next turn's window.
      expect(history.recent(Math.floor(budget / 2))).toEqual(expectedWindow(exchanges, Math.floor(budget / 2)))
    }
  })

  it('an earlier history asked again, or branched from, still answers its own window', () => {
    const budget = 150
    const exchanges = Array.from({ length: 30 }, (_, i) => exchange(i))
    const histories = [History.empty]
    for (const ex of exchanges) histories.push(histories.at(-1)!.append(...ex))
    for (const h of histories) h.recent(budget)
    for (let k = histories.length - 1; k >= 0; k--) expect(histories[k]!.recent(budget)).toEqual(expectedWindow(exchanges.slice(0, k), budget))
    const branch = histories[10]!.append(...exchange(99))
    expect(branch.recent(budget)).toEqual(expectedWindow([...exchanges.slice(0, 10), exchange(99)], budget))
  })

  it('what recent returns is the caller\'s to change: the next call is not affected', () => {
    const history = History.from([...exchange(1), ...exchange(2)])
    const first = history.recent(1000)
    first.length = 0
    expect(history.recent(1000)).toHaveLength(4)
  })
})

describe('History, for a running summary', () => {
  const tool = (i: number): HistoryEntry[] => [
    { role: 'user', content: `第${i}句：请点灯` },
    { role: 'assistant', content: '', tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'light', arguments: '{}' } }] },
    { role: 'tool', content: '灯亮了', tool_call_id: `c${i}` },
    { role: 'assistant', content: '灯点上了。' },
  ]
  const exchanges = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? tool(i) : exchange(i)))
  const history = History.from(exchanges.flat())
  const starts = exchanges.reduce<number[]>((acc, e, i) => [...acc, i === 0 ? 0 : acc[i - 1]! + exchanges[i - 1]!.length], [])

  it('the window never reaches back before where the summary ends', () => {
    for (const from of starts) {
      const window = history.recent(10_000, from)
      expect(window).toEqual(history.toArray().slice(from))
      expect(history.recentTokens(10_000, from)).toBe(window.reduce((n, m) => n + messageTokens(m.content) + (m.tool_calls ? messageTokens(JSON.stringify(m.tool_calls)) : 0), 0))
    }
    expect(history.recent(180, starts[39]!)).toEqual(exchanges[39])
  })

  it('a fold point is always the start of an exchange, keeps the newest that fit, and never precedes the summary', () => {
    for (const from of starts) {
      for (const keep of [0, 50, 200, 800]) {
        const point = history.foldPoint(from, keep)
        expect(starts.includes(point) || point === history.length).toBe(true)
        expect(point).toBeGreaterThanOrEqual(from)
        expect(history.isExchangeStart(point)).toBe(true)
        // The newest exchange is always kept; everything after the point is the newest whole exchanges within `keep`.
        expect(point).toBeLessThanOrEqual(starts[39]!)
        const kept = history.toArray().slice(point)
        if (point < starts[39]! && point > from) expect(kept.reduce((n, m) => n + messageTokens(m.content) + (m.tool_calls ? messageTokens(JSON.stringify(m.tool_calls)) : 0), 0)).toBeLessThanOrEqual(keep)
      }
    }
  })

  it('fitsFrom says whether nothing after `from` is trimmed; slice and isExchangeStart see whole exchanges', () => {
    expect(history.fitsFrom(100_000, 0)).toBe(true)
    expect(history.fitsFrom(180, 0)).toBe(false)
    expect(history.fitsFrom(180, history.length)).toBe(true)
    expect(history.slice(starts[3]!, starts[5]!)).toEqual([...exchanges[3]!, ...exchanges[4]!])
    expect(history.isExchangeStart(starts[3]! + 1)).toBe(false)
    expect(History.empty.fitsFrom(10, 0)).toBe(true)
  })
})
