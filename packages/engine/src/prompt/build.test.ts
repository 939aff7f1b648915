import { describe, expect, it } from 'vitest'
import { parseNpc } from '../content/parse.ts'
import { buildMessages } from './build.ts'
import { History, type HistoryEntry } from './history.ts'
import { buildSystemMessage } from './system.ts'
import { estimateTokens, messageTokens } from './tokens.ts'

const npc = parseNpc(
  `id: t
name: T
persona: 你是一个线人。
greeting: 想买点情报吗？
lines: { nudge: 嗯？, fallback: 抱歉, farewell: 再见 }
history: { max_tokens: 100 }
examples: [ { player: 你是谁, npc: 一个线人 } ]
items: { gem: { name: 红宝石 }, gold: { name: 金币 } }
flags: { met: { note: 玩家见过BOSS。 } }
secrets:
  - { id: a, fact: 事实A, locked_hint: 你有一个秘密A, unlock: { given: gem }, on_unlock: 现在可以说A }
  - { id: b, fact: 事实B, unlock: { flag: met } }
`,
  't.yaml',
)

const pair = (i: number, text = '这是一句二十个字左右的中文句子用来测试预算'): HistoryEntry[] => [
  { role: 'user', content: `${i}${text}` },
  { role: 'assistant', content: `回答${i}` },
]

describe('estimateTokens', () => {
  it('counts a CJK character as a token and about four ASCII characters as one', () => {
    expect(estimateTokens('山庄')).toBe(2)
    expect(estimateTokens('hello world!')).toBe(3)
    expect(estimateTokens('BOSS在山庄')).toBe(4)
    expect(estimateTokens('𠀀')).toBe(1)
    expect(estimateTokens('')).toBe(0)
  })
})

describe('buildSystemMessage', () => {
  it('holds the persona and hints of locked secrets, never their facts', () => {
    const s = buildSystemMessage(npc, { unlocked: [], items: {}, flags: [] })
    expect(s).toContain('你是一个线人。')
    expect(s).toContain('你有一个秘密A')
    expect(s).not.toContain('事实A')
    expect(s).not.toContain('现在可以说A')
    expect(s).not.toContain('事实B')
  })

  it('once unlocked: the fact and its instruction replace the hint; gifts and flag notes are told', () => {
    const s = buildSystemMessage(npc, { unlocked: ['a'], items: { gem: 1, gold: 5 }, flags: ['met'] })
    expect(s).toContain('事实A\n  现在可以说A')
    expect(s).not.toContain('你有一个秘密A')
    expect(s).toContain('红宝石×1、金币×5')
    expect(s).toContain('- 玩家见过BOSS。')
  })
})

describe('history window', () => {
  it('keeps the newest whole exchanges within the budget', () => {
    const history = History.from(Array.from({ length: 20 }, (_, i) => pair(i)).flat())
    const kept = history.recent(100)
    expect(kept.length % 2).toBe(0)
    expect(kept[0]!.role).toBe('user')
    expect(kept.reduce((n, h) => n + messageTokens(h.content), 0)).toBeLessThanOrEqual(100)
    expect(kept.at(-1)!.content).toBe('回答19')
    const all = history.toArray()
    const oneMore = all.slice(all.length - kept.length - 2)
    expect(oneMore.reduce((n, h) => n + messageTokens(h.content), 0)).toBeGreaterThan(100)
  })

  it('keeps nothing when a single exchange is over budget, never half an exchange', () => {
    expect(History.from(pair(1, '长'.repeat(500))).recent(100)).toEqual([])
  })

  it('is persistent: appending leaves earlier values as they were', () => {
    const a = History.from(pair(1))
    const b = a.append(...pair(2))
    expect(a.toArray().map((h) => h.content)).toEqual(['1这是一句二十个字左右的中文句子用来测试预算', '回答1'])
    expect(b.length).toBe(4)
    expect(a.length).toBe(2)
  })
})

describe('buildMessages', () => {
  it('system, examples, kept history, then the player: never only a system message', () => {
    const m = buildMessages(npc, { unlocked: [], items: {}, flags: [] }, History.empty, '你好')
    expect(m.map((x) => x.role)).toEqual(['system', 'user', 'assistant', 'user'])
    expect(m.at(-1)).toEqual({ role: 'user', content: '你好' })
  })

  it('a gift changes the system message at once, although the text is cached', () => {
    const before = buildMessages(npc, { unlocked: [], items: {}, flags: [] }, History.empty, 'x')[0]!.content
    const after = buildMessages(npc, { unlocked: ['a'], items: { gem: 1 }, flags: [] }, History.empty, 'x')[0]!.content
    expect(before).not.toContain('事实A')
    expect(after).toContain('事实A')
  })

  it('is pure: the same inputs give identical output', () => {
    const history = History.from(Array.from({ length: 5 }, (_, i) => pair(i)).flat())
    const state = { unlocked: ['a'], items: { gem: 1 }, flags: [] }
    expect(JSON.stringify(buildMessages(npc, state, history, 'x'))).toBe(JSON.stringify(buildMessages(npc, state, history, 'x')))
  })
})
