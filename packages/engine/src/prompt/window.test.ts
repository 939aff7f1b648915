import { describe, expect, it } from 'vitest'
import { parseNpc } from '../content/parse.ts'
import { buildMessages } from './build.ts'
import { History } from './history.ts'
import { halvedWindow } from './window.ts'

const npc = parseNpc(
  `id: t
name: T
persona: 你是一个线人。
lines: { nudge: 嗯？, fallback: 抱歉, farewell: 再见 }
history: { max_tokens: 200 }
examples: [ { player: 你是谁, npc: 一个线人 } ]
items: { gem: { name: 红宝石 } }
secrets:
  - { id: a, fact: 事实A, unlock: { given: gem }, on_unlock: 现在可以说A }
  - { id: b, fact: 事实B, locked_hint: 你有一个秘密B, unlock: { flag: x } }
`,
  't.yaml',
)

describe('the halved window after a context overflow', () => {
  const history = History.from(Array.from({ length: 30 }, (_, i) => [
    { role: 'user' as const, content: `${i}这是一句用来填满历史窗口的话` },
    { role: 'assistant' as const, content: `回答${i}` },
  ]).flat())
  const state = { unlocked: ['a'], items: { gem: 1 }, flags: [], lore: ['第一段背景', '第二段背景', '第三段背景', '第四段背景'] }

  it('halves history, leaves the examples out and keeps the better half of the lore', () => {
    const full = buildMessages(npc, state, history, '下一句')
    const half = halvedWindow(npc, state, history, '下一句')
    const turns = (m: typeof full) => m.filter((x) => x.role === 'user').length
    expect(turns(half) - 1).toBeLessThanOrEqual(Math.ceil((turns(full) - 2) / 2))
    expect(half.some((m) => m.content === '你是谁')).toBe(false)
    expect(half[0]!.content).toContain('第一段背景')
    expect(half[0]!.content).toContain('第二段背景')
    expect(half[0]!.content).not.toContain('第三段背景')
    expect(half.at(-1)).toEqual({ role: 'user', content: '下一句' })
    expect(JSON.stringify(half).length).toBeLessThan(JSON.stringify(full).length)
  })

  it('never cuts the persona, an unlocked fact or a hint', () => {
    const system = halvedWindow(npc, state, history, '下一句')[0]!.content
    expect(system).toContain('你是一个线人。')
    expect(system).toContain('事实A')
    expect(system).toContain('现在可以说A')
    expect(system).toContain('你有一个秘密B')
  })
})
