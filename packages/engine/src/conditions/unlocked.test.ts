import { describe, expect, it } from 'vitest'
import { evaluate, describeCondition } from './evaluate.ts'
import { parseNpc } from '../content/parse.ts'
import { ContentError } from '../content/issues.ts'
import { createConversation } from '../conversation/conversation.ts'
import { scriptedProvider } from '../providers/scripted.ts'

const npc = (secrets: string, extra = '') => `id: smith
name: Smith
persona: You forge blades.
lines: { nudge: Well?, fallback: Eh?, farewell: Go. }
items:
  ore: { name: iron ore }
secrets:
${secrets}${extra}`

const chained = npc(`  - id: forge_open
    fact: The forge is lit.
    unlock: { given: ore }
  - id: blade_ready
    fact: The blade is ready.
    unlock: { unlocked: forge_open }
`, `scripted:
  replies:
    - keywords: [blade]
      when: { unlocked: blade_ready }
      say: The blade waits for you.
  default: Hm.
`)

describe('the unlocked condition', () => {
  it('holds once the named secret has unlocked', () => {
    expect(evaluate({ unlocked: 'map' }, { items: {}, flags: [], turns: 0 })).toBe(false)
    expect(evaluate({ unlocked: 'map' }, { items: {}, flags: [], turns: 0, unlocked: ['map'] })).toBe(true)
    expect(describeCondition({ all: [{ unlocked: 'map' }, { turns: { gte: 2 } }] })).toBe('all of (unlocked map, turns ≥ 2)')
  })

  it('chains: one gift unlocks a secret and the secret waiting for it, in the same step', async () => {
    const convo = createConversation(parseNpc(chained, 'smith.yaml'), { provider: scriptedProvider() })
    expect(convo.give('ore').unlocked).toEqual(['forge_open', 'blade_ready'])
    expect((await convo.say('so?')).text).toBe('The forge is lit.\nThe blade is ready.')
    expect((await convo.say('the blade?')).text).toBe('The blade waits for you.')
  })

  it('lint names an unknown secret id with a did-you-mean, at the id', () => {
    const text = chained.replace('unlock: { unlocked: forge_open }', 'unlock: { unlocked: forge_opn }')
    let error: unknown
    try {
      parseNpc(text, 'smith.yaml')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ContentError)
    expect((error as ContentError).issues.map((i) => [i.line, i.col, i.code, i.message, i.hint])).toEqual([[13, 25, 'unknown_secret', 'unknown secret "forge_opn"', 'did you mean "forge_open"?']])
  })

  it('lint refuses a secret that waits for itself', () => {
    expect(() => parseNpc(chained.replace('unlock: { unlocked: forge_open }', 'unlock: { unlocked: blade_ready }'), 'smith.yaml')).toThrow('secret "blade_ready" waits for itself, so it never unlocks')
  })
})
