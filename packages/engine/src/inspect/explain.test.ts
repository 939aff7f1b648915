import { describe, expect, it } from 'vitest'
import { parseNpc } from '../content/parse.ts'
import { createConversation } from '../conversation/conversation.ts'
import { scriptedProvider } from '../providers/scripted.ts'
import { explainConversation } from './explain.ts'
import { formatExplanation } from './format.ts'
import { formatConditionLine } from '../conditions/explain.ts'

const cook = parseNpc(`id: cook
name: Cook
persona: You run the canteen.
lines: { nudge: Hungry?, fallback: Eh?, farewell: Eat well. }
items:
  ration_chip: { name: ration chip }
flags:
  staff: { note: The player works here. }
secrets:
  - id: back_door
    fact: The back door code is 7788.
    locked_hint: You know a way out you do not share.
    unlock: { all: [ { given: { item: ration_chip, count: 3 } }, { turns: { gte: 4 } } ] }
  - id: recipe
    fact: The stew is mostly algae.
    unlock: { any: [ { flag: staff }, { unlocked: back_door } ] }
actions:
  - name: serve
    description: Serve a bowl.
    when: { not: { flag: staff } }
lore:
  sources:
    - id: menu
      text: Algae stew on Mondays.
    - id: cellar
      text: The cellar floods when it rains.
      unlock: { said: { matches: cellar } }
scripted:
  default: Next!
`, 'cook.yaml')

const facts = { items: { ration_chip: 3 }, flags: [], turns: 1, said: [], unlocked: [] }

describe('explainConversation (pure)', () => {
  it('shows every leaf of a condition with its progress: ration_chip 3/3 ✓ · turns 1/4 ✗', () => {
    const e = explainConversation(cook, facts)
    const door = e.secrets.find((s) => s.id === 'back_door')!
    expect(door.unlocked).toBe(false)
    expect(formatConditionLine(door.condition)).toBe('ration_chip 3/3 ✓ · turns 1/4 ✗')
    expect(door.condition.children!.map((c) => [c.label, c.progress, c.holds])).toEqual([
      ['ration_chip', '3/3', true],
      ['turns', '1/4', false],
    ])
    expect(formatConditionLine(e.secrets[1]!.condition)).toBe('any of (flag staff not set ✗ · unlocked back_door locked ✗) ✗')
  })

  it('says what the next request would carry: facts of unlocked secrets, hints of locked ones, open lore, offered tools', () => {
    const e = explainConversation(cook, { ...facts, flags: ['staff'], unlocked: ['recipe'] })
    expect(e.next).toMatchObject({ facts: ['recipe'], hints: ['back_door'], lore: ['menu'], actions: [] })
    expect(e.actions).toEqual([{ name: 'serve', offered: false, condition: expect.objectContaining({ kind: 'not', holds: false }) }])
    expect(e.lore.map((l) => [l.id, l.available, l.condition?.progress])).toEqual([['menu', true, undefined], ['cellar', false, 'not yet']])
    expect(e.last).toBeNull()
  })

  it('a said condition stays true once matched, and shows it', () => {
    const e = explainConversation(cook, { ...facts, said: ['ci:cellar'] })
    expect(e.lore[1]).toMatchObject({ id: 'cellar', available: true, condition: { label: 'said /cellar/', progress: 'matched', holds: true } })
  })

  it('an unlocked secret stays unlocked in the explanation even when its condition no longer holds', () => {
    const e = explainConversation(cook, { ...facts, items: {}, unlocked: ['back_door'] })
    expect(e.secrets[0]).toMatchObject({ id: 'back_door', unlocked: true, next: 'fact', condition: { holds: false } })
  })
})

describe('convo.explain()', () => {
  it('reports which entries the last request carried, and agrees with the conversation', async () => {
    const convo = createConversation(cook, { provider: scriptedProvider() })
    convo.give('ration_chip', 3)
    for (const line of ['one', 'two', 'three']) await convo.say(line)
    expect(convo.explain().secrets[0]).toMatchObject({ unlocked: false, lastCarried: false })
    await convo.say('what about the cellar?')
    const e = convo.explain()
    expect(convo.unlocked()).toEqual(['back_door', 'recipe'])
    expect(e.secrets.map((s) => [s.id, s.unlocked, s.next])).toEqual([['back_door', true, 'fact'], ['recipe', true, 'fact']])
    // The fourth line was answered before its turn counted: the request carried no fact yet.
    expect(e.last!.facts).toEqual([])
    expect(e.last!.lore).toEqual(['cellar#0'])
    expect(e.lore.find((l) => l.id === 'cellar')!.lastCarried).toEqual(['cellar#0'])
    await convo.say('and now?')
    expect(convo.explain().last!.facts).toEqual(['back_door', 'recipe'])
    expect(formatExplanation(convo.explain())).toContain('✓ back_door: unlocked · next request carries its fact\n      ✓ all of\n        ✓ ration_chip 3/3\n        ✓ turns 5/4')
  })
})

describe('explain for a player-visible view', () => {
  it('masks said patterns (passphrases) when asked', () => {
    const e = explainConversation(cook, facts, undefined, { hidePatterns: true })
    expect(e.lore[1]!.condition!.label).toBe('said (a passphrase)')
    expect(JSON.stringify(e)).not.toContain('cellar/')
  })
})

describe('memories in the explanation', () => {
  const facts = { items: {}, flags: [], turns: 0, said: [], unlocked: ['recipe'] }

  it('lists carried memories with their secrets, and held-back ones masked, and counts the carried ones in the system message', () => {
    const e = explainConversation(cook, { ...facts, memories: [{ text: 'The player works nights.', secrets: ['recipe'] }], withheld: [['back_door']] })
    expect(e.memories).toEqual([
      { text: 'The player works nights.', secrets: ['recipe'], carried: true },
      { text: '•••', secrets: ['back_door'], carried: false },
    ])
    expect(e.next.systemTokens).toBeGreaterThan(explainConversation(cook, facts).next.systemTokens)
    const text = formatExplanation(e)
    expect(text).toContain('✓ The player works nights. · written with recipe unlocked')
    expect(text).toContain('✗ held back · written with back_door unlocked')
  })

  it('has no memories field when there is nothing remembered', () => {
    expect(explainConversation(cook, facts).memories).toBeUndefined()
  })
})
