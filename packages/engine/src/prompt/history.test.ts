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
