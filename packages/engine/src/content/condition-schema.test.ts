import { describe, expect, expectTypeOf, it } from 'vitest'
import { conditionSchema } from './schema.ts'
import { parseNpc } from './parse.ts'
import type { Condition } from '../conditions/types.ts'

const npcWith = (unlock: string) => `id: t\nname: T\nmodel: { name: glm-4-flash }\npersona: p\nlines: { nudge: n, fallback: f, farewell: b }\nitems: { coin: { name: c } }\nsecrets:\n  - id: s\n    fact: F\n    unlock: ${unlock}\n`
const issuesOf = (text: string) => {
  try {
    parseNpc(text, 't.yaml')
  } catch (error) {
    return (error as { issues: Array<{ code: string; message: string; line: number; col: number }> }).issues
  }
  return []
}

describe('one condition schema, exactly one key', () => {
  it('accepts each one-key form, nested ones included', () => {
    for (const c of [{ given: 'coin' }, { given: { item: 'coin', count: 2 } }, { flag: 'met' }, { said: { matches: 'hi' } }, { turns: { gte: 1 } }, { all: [{ flag: 'a' }] }, { any: [{ not: { flag: 'b' } }] }]) {
      expect(conditionSchema.safeParse(c).success).toBe(true)
    }
  })

  it('refuses {} and two keys at once, at any depth', () => {
    for (const c of [{}, { given: 'coin', flag: 'met' }, { all: [{}] }, { not: { flag: 'a', turns: { gte: 1 } } }]) {
      expect(conditionSchema.safeParse(c).success).toBe(false)
    }
  })

  it('the Condition type is the schema\'s own', () => {
    expectTypeOf<Condition>().toExtend<{ given: string | { item: string; count?: number | undefined } } | { flag: string } | { said: { matches: string; ignore_case?: boolean | undefined } } | { turns: { gte?: number | undefined; lte?: number | undefined } } | { unlocked: string } | { var: Record<string, string | { gte?: number | undefined; lte?: number | undefined; gt?: number | undefined; lt?: number | undefined; eq?: number | undefined }> } | { all: Condition[] } | { any: Condition[] } | { not: Condition }>()
  })

  it('an NPC file with an empty condition gets one positioned issue saying what a condition needs', () => {
    const issues = issuesOf(npcWith('{}'))
    expect(issues).toEqual([expect.objectContaining({ code: 'invalid_condition', line: 10, message: 'a condition needs one of: given, flag, said, turns, unlocked, var, all, any, not' })])
  })

  it('a bad value inside a condition is reported where it is, not as "no shape fits"', () => {
    const issues = issuesOf(npcWith('{ all: [ { given: { item: coin, count: 0 } } ] }'))
    expect(issues).toEqual([expect.objectContaining({ code: 'invalid_value', line: 10, message: 'secrets[0].unlock.all[0].given.count must be at least 1' })])
  })
})
