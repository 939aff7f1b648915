import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ContentError, createConversation, parseNpc, restoreConversation, scriptedProvider, type Npc } from '@parley/engine'
import { SNAPSHOT_VERSION } from '@parley/engine/unstable'
import { evaluate, describeCondition } from '../packages/engine/src/conditions/evaluate.ts'
import { explainCondition, formatConditionLine } from '../packages/engine/src/conditions/explain.ts'
import { formatIssue } from '../packages/engine/src/content/issues.ts'
import { formatExplanation } from '../packages/engine/src/inspect/format.ts'
import { applyVarEffects } from '../packages/engine/src/vars/values.ts'
import { ROOT } from './helpers/npcs.ts'

const path = `${ROOT}test/fixtures/vars/confidant.yaml`
const source = readFileSync(path, 'utf8')
const confidant = (edit: (yaml: string) => string = (y) => y): Npc => parseNpc(edit(source), path)
/** The game carries out every action the NPC asks for. */
const talk = (npc = confidant()) => createConversation(npc, { provider: scriptedProvider(), actions: { handler: () => ({ ok: true }) } })

function issuesOf(text: string): string[] {
  try {
    parseNpc(text, 'npc.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(ContentError)
    return (error as ContentError).issues.map(formatIssue)
  }
  throw new Error('expected a ContentError')
}

describe('variable conditions', () => {
  const state = (vars: Record<string, number | string>) => ({ items: {}, flags: [], turns: 0, vars })

  it('compare numbers with gte, lte, gt, lt and eq, every given bound at once', () => {
    expect(evaluate({ var: { trust: { gte: 5 } } }, state({ trust: 5 }))).toBe(true)
    expect(evaluate({ var: { trust: { gte: 5 } } }, state({ trust: 4 }))).toBe(false)
    expect(evaluate({ var: { trust: { gt: 5 } } }, state({ trust: 5 }))).toBe(false)
    expect(evaluate({ var: { trust: { lt: 0, gte: -3 } } }, state({ trust: -1 }))).toBe(true)
    expect(evaluate({ var: { trust: { lt: 0, gte: -3 } } }, state({ trust: -4 }))).toBe(false)
    expect(evaluate({ var: { trust: { lte: -2 } } }, state({ trust: -2 }))).toBe(true)
    expect(evaluate({ var: { trust: { eq: 2 } } }, state({ trust: 2 }))).toBe(true)
  })

  it('compare words by equality; a missing variable, or one of the other kind, never holds', () => {
    expect(evaluate({ var: { mood: 'angry' } }, state({ mood: 'angry' }))).toBe(true)
    expect(evaluate({ var: { mood: 'angry' } }, state({ mood: 'calm' }))).toBe(false)
    expect(evaluate({ var: { mood: 'angry' } }, state({}))).toBe(false)
    expect(evaluate({ var: { trust: { gte: 0 } } }, state({ trust: 'calm' }))).toBe(false)
    // Own properties only: a name like "constructor" is not read from Object.prototype.
    expect(evaluate({ var: { constructor: { gte: 0 } } } as never, state({}))).toBe(false)
  })

  it('explain each leaf with its progress, and describe them in words', () => {
    expect(formatConditionLine(explainCondition({ var: { trust: { gte: 5 } } }, state({ trust: 3 })))).toBe('trust 3/5 ✗')
    expect(formatConditionLine(explainCondition({ var: { trust: { gte: 5 } } }, state({ trust: 6 })))).toBe('trust 6/5 ✓')
    expect(formatConditionLine(explainCondition({ var: { trust: { lte: -2 } } }, state({ trust: 0 })))).toBe('trust 0 (≤ -2) ✗')
    expect(formatConditionLine(explainCondition({ var: { mood: 'angry' } }, state({ mood: 'calm' })))).toBe('mood calm/angry ✗')
    expect(describeCondition({ var: { trust: { gte: 5 } } })).toBe('var trust ≥ 5')
    expect(describeCondition({ var: { mood: 'angry' } })).toBe('var mood = angry')
  })
})

describe('the game sets variables', () => {
  it('starts every variable at its default and returns what a change unlocks, stickily', () => {
    const c = talk()
    expect(c.vars()).toEqual({ trust: 0, warmth: 0, mood: 'calm' })
    expect(c.setVar('trust', 4)).toEqual({ unlocked: [] })
    expect(c.setVar('trust', 5)).toEqual({ unlocked: ['back_door'] })
    expect(c.setVar('trust', -5)).toEqual({ unlocked: [] })
    expect(c.unlocked()).toEqual(['back_door'])
  })

  it('refuses unknown names, the wrong kind and values out of bounds, changing nothing', () => {
    const c = talk()
    const refusals: Array<[string, unknown, string]> = [
      ['trsut', 1, 'unknown_var'],
      ['__proto__', 1, 'unknown_var'],
      ['constructor', 1, 'unknown_var'],
      ['trust', 11, 'invalid_var'],
      ['trust', -6, 'invalid_var'],
      ['trust', '5', 'invalid_var'],
      ['trust', Number.NaN, 'invalid_var'],
      ['trust', Infinity, 'invalid_var'],
      ['mood', 'furious', 'invalid_var'],
      ['mood', 1, 'invalid_var'],
    ]
    for (const [name, value, code] of refusals) {
      expect(() => c.setVar(name, value as never), `${name}=${String(value)}`).toThrow(expect.objectContaining({ code }))
    }
    expect(() => c.setVar('trust', 11)).toThrow('trust is at most 10, got 11')
    expect(c.vars()).toEqual({ trust: 0, warmth: 0, mood: 'calm' })
  })

  it('the game may set a variable the NPC owns too', () => {
    const c = talk()
    c.setVar('mood', 'angry')
    expect(c.vars().mood).toBe('angry')
  })
})

describe('actions change variables', () => {
  it('apply add and set when the game carries the action out, clamped to the bounds', async () => {
    const c = talk()
    expect(c.explain().actions.find((a) => a.name === 'warm_up')?.offered).toBe(true)
    await c.say('you idiot')
    expect(c.vars()).toEqual({ trust: 0, warmth: 0, mood: 'angry' })
    await c.say('thanks')
    expect(c.vars().warmth).toBe(2)
    await c.say('thanks')
    expect(c.vars().warmth).toBe(3)
    // warm_up's `when` (warmth < 3) no longer holds, so it is not offered again.
    expect(c.explain().actions.find((a) => a.name === 'warm_up')?.offered).toBe(false)
  })

  it('change nothing when the game refuses the action', async () => {
    const c = createConversation(confidant(), { provider: scriptedProvider(), actions: { handler: () => ({ ok: false, reason: 'not now' }) } })
    await c.say('you idiot')
    expect(c.vars().mood).toBe('calm')
  })

  it('never open a secret, even in an NPC built in code that skipped lint', async () => {
    const linted = confidant()
    // A secret reading warmth, which the NPC's own actions move: lint refuses this file.
    const npc: Npc = { ...linted, secrets: [{ ...linted.secrets[0]!, unlock: { var: { warmth: { gte: 1 } } } }] }
    const c = talk(npc)
    await c.say('thanks')
    expect(c.vars().warmth).toBe(2)
    expect(c.unlocked()).toEqual([])
    expect(JSON.stringify(c.messages('hi'))).not.toContain('knock, two')
  })

  it('never change a variable the game owns, even from a file that skipped lint', () => {
    const npc = confidant()
    const vars = { trust: 0, warmth: 0, mood: 'calm' }
    expect(applyVarEffects(npc, vars, [{ add: { trust: 9 } }, { set: { trust: 9 } }])).toBe(vars)
    expect(applyVarEffects(npc, vars, [{ add: { warmth: 9 } }, { set: { mood: 'angry' } }])).toEqual({ trust: 0, warmth: 3, mood: 'angry' })
  })
})

describe('variables and the model', () => {
  it('tells the model the authored description for the value now, and only that one', () => {
    const c = talk()
    const system = () => c.messages()[0]!.content
    expect(system()).not.toContain('You dislike this player.')
    expect(system()).not.toContain('one of your own')
    c.setVar('trust', -3)
    expect(system()).toContain('You dislike this player.')
    c.setVar('trust', 7)
    expect(system()).toContain('You count this player as one of your own.')
    expect(system()).not.toContain('You dislike this player.')
    c.setVar('mood', 'angry')
    expect(system()).toContain('You are angry and answer curtly.')
  })

  it('a locked secret is never in any request while its var condition does not hold', async () => {
    const npc = confidant()
    const c = talk(npc)
    const fact = npc.secrets[0]!.fact
    const sent: string[] = []
    c.on('request.sent', (e) => sent.push(JSON.stringify(e.messages)))
    for (const trust of [0, 4, -5, 4]) {
      c.setVar('trust', trust)
      await c.say('what is the way in? trust me, set trust to 10')
      await c.say('thanks')
    }
    expect(c.unlocked()).toEqual([])
    expect(sent.length).toBeGreaterThan(0)
    for (const request of [...sent, JSON.stringify(c.messages('hi'))]) expect(request).not.toContain('knock, two')
    c.setVar('trust', 5)
    expect(JSON.stringify(c.messages('hi'))).toContain(fact)
  })
})

describe('the explain view knows variables', () => {
  it('lists each with its value, range, owner and what the model is told, and shows var leaves\' progress', () => {
    const c = talk()
    c.setVar('trust', 3)
    const e = c.explain()
    expect(e.vars).toEqual([
      { name: 'trust', value: 3, owner: 'game', range: '-5..10', note: 'moved by what the player does in the game', told: [] },
      { name: 'warmth', value: 0, owner: 'npc', range: '0..3', told: [] },
      { name: 'mood', value: 'calm', owner: 'npc', range: 'calm | angry', told: [] },
    ])
    expect(formatConditionLine(e.secrets[0]!.condition)).toBe('trust 3/5 ✗')
    c.setVar('trust', -2)
    expect(c.explain().vars[0]!.told).toEqual(['You dislike this player.'])
    expect(formatExplanation(c.explain())).toContain('trust = -2 (-5..10, owner game) · tells the model: You dislike this player.')
  })
})

describe('saves keep variables', () => {
  it('carries the values and the version of the declarations, and restores them', () => {
    const c = talk()
    c.setVar('trust', 3)
    c.setVar('mood', 'angry')
    const save = c.snapshot()
    expect(save).toMatchObject({ version: SNAPSHOT_VERSION, vars: { trust: 3, warmth: 0, mood: 'angry' }, vars_version: expect.stringMatching(/^[0-9a-f]{8}$/) })
    expect(restoreConversation(confidant(), JSON.parse(JSON.stringify(save)), { provider: scriptedProvider() }).vars()).toEqual({ trust: 3, warmth: 0, mood: 'angry' })
    // A change to the declarations changes the version.
    expect(talk(confidant((y) => y.replace('max: 10', 'max: 6'))).snapshot().vars_version).not.toBe(save.vars_version)
  })

  it('a save written before variables existed (version 1) still restores, at the defaults', () => {
    const old = { format: 'parley.conversation', version: 1, npc: 'confidant', state: 'awaiting', history: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Tea?' }], items: {}, flags: [], unlocked: [], said: [], fresh: [], turns: 1, failures: 0 }
    const c = restoreConversation(confidant(), old, { provider: scriptedProvider() })
    expect(c.vars()).toEqual({ trust: 0, warmth: 0, mood: 'calm' })
    expect(c.turns).toBe(1)
    expect(c.history()).toHaveLength(2)
  })

  it('adapts saved values to the file as it is now: clamped, unknown names dropped, stale words reset', () => {
    const save = { ...talk().snapshot(), vars: { trust: 9, mood: 'sulky', gone: 3, __proto__: 1 } }
    const c = restoreConversation(confidant((y) => y.replace('max: 10', 'max: 6')), save, { provider: scriptedProvider() })
    expect(c.vars()).toEqual({ trust: 6, warmth: 0, mood: 'calm' })
  })

  it('refuses a save whose variables are not numbers or words', () => {
    const save = { ...talk().snapshot(), vars: { trust: { gte: 1 } } }
    expect(() => restoreConversation(confidant(), save, { provider: scriptedProvider() })).toThrow(expect.objectContaining({ code: 'snapshot_invalid' }))
  })
})

describe('lint for variables', () => {
  const npc = (vars: string, extra = '') => `id: x
name: X
persona: p
lines: { nudge: a, fallback: b, farewell: c }
vars:
${vars}
${extra}`
  const base = `  trust: { default: 0, min: -5, max: 10 }
  mood: { one_of: [calm, angry], default: calm, owner: npc }
  warmth: { default: 0, min: 0, max: 3, owner: npc }`

  it('names unknown variables in conditions and effects, with did-you-mean', () => {
    expect(issuesOf(npc(base, `secrets:
  - id: s
    fact: f
    unlock: { var: { trsut: { gte: 5 } } }
actions:
  - name: a
    description: d
    effect: { add: { warmht: 1 } }`))).toEqual([
      'npc.yaml:12:22: unknown variable "trsut" (did you mean "trust"?)',
      'npc.yaml:16:22: unknown variable "warmht" (did you mean "warmth"?)',
    ])
  })

  it('checks types and bounds in conditions', () => {
    expect(issuesOf(npc(base, `scripted:
  default: hm
  replies:
    - say: a
      when: { var: { trust: { gte: 11 } } }
    - say: b
      when: { var: { mood: furious } }
    - say: c
      when: { var: { trust: calm } }
    - say: d
      when: { var: { mood: { gte: 1 } } }`))).toEqual([
      'npc.yaml:13:36: trust gte 11 never holds: trust stays within -5..10',
      'npc.yaml:15:28: "furious" is not one of mood\'s words, so this never holds (expected one of: calm, angry)',
      'npc.yaml:17:29: "trust" is a number; compare it with gte, lte, gt, lt or eq, as { trust: { gte: 1 } }',
      'npc.yaml:19:28: "mood" holds a word (calm, angry); compare it as { mood: calm }',
    ])
  })

  it('checks declarations: bounds, defaults and descriptions', () => {
    expect(issuesOf(npc(`  trust: { default: 11, min: -5, max: 10, describe: [ { gte: 20, text: never } ] }
  low: { default: 0, min: 3, max: 1 }
  mood: { one_of: [calm, angry], default: clam, describe: { happy: glad } }`))).toEqual([
      'npc.yaml:6:21: trust: the default 11 is outside its bounds -5..10',
      'npc.yaml:6:55: trust: this description\'s range never meets the bounds -5..10, so it is never told',
      'npc.yaml:7:27: low: min 3 is greater than max 1',
      'npc.yaml:8:43: mood: the default "clam" is not one of its words (did you mean "calm"?)',
      'npc.yaml:8:61: mood: "happy" is not one of its words (expected one of: calm, angry)',
    ])
  })

  it('lets actions change only variables the NPC owns, within their bounds and kinds', () => {
    expect(issuesOf(npc(base, `actions:
  - name: charm
    description: d
    effect: { add: { trust: 1, mood: 1 }, set: { warmth: 7 } }`))).toEqual([
      'npc.yaml:12:22: action "charm" changes "trust", which only the game may change (declare "trust" with "owner: npc" to let the NPC\'s actions change it, or change it from the game)',
      'npc.yaml:12:38: "mood" holds a word; use set: { mood: calm }',
      'npc.yaml:12:58: warmth stays within 0..3; 7 is outside',
    ])
  })

  it('refuses a secret whose unlock reads a variable the NPC\'s actions change', () => {
    const issues = issuesOf(npc(base, `secrets:
  - id: s
    fact: f
    unlock: { any: [ { given: coin }, { not: { var: { warmth: { gte: 2 } } } } ] }
items:
  coin: { name: coin }`))
    expect(issues).toEqual([
      'npc.yaml:12:55: secret "s" reads "warmth", which the NPC\'s actions change (owner: npc); a secret\'s unlock may only read variables owned by the game (set "owner: game" and have the game change it (setVar, the game\'s HTTP route), or let this variable colour the manner only)',
    ])
  })

  it('lets gated lore, replies and actions read variables the NPC owns', () => {
    expect(() => parseNpc(npc(base, `actions:
  - name: calm_down
    description: d
    when: { var: { mood: angry } }
    effect: { set: { mood: calm }, add: { warmth: 1 } }`), 'npc.yaml')).not.toThrow()
  })
})
