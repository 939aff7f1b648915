import type { Condition, GameState } from './types.ts'
import { saidMatcher } from './said-pattern.ts'

/** The key a `said` condition is remembered by once it has matched. */
export function saidKey(said: { matches: string; ignore_case?: boolean | undefined }): string {
  return `${said.ignore_case === false ? 'cs' : 'ci'}:${said.matches}`
}

function has(set: ReadonlySet<string> | readonly string[] | undefined, value: string): boolean {
  if (!set) return false
  return 'has' in set ? set.has(value) : set.includes(value)
}

/**
 * Pure and deterministic: the same condition and state always give the same answer. The model
 * never takes part, so no chat text can make a condition hold except through `said`, which a
 * designer opts into explicitly.
 */
export function evaluate(condition: Condition, state: GameState): boolean {
  if ('given' in condition) {
    const g = condition.given
    const item = typeof g === 'string' ? g : g.item
    const count = typeof g === 'string' ? 1 : (g.count ?? 1)
    return (state.items[item] ?? 0) >= count
  }
  if ('flag' in condition) return has(state.flags, condition.flag)
  if ('said' in condition) {
    if (has(state.saidPatterns, saidKey(condition.said))) return true
    return state.currentLine !== undefined && saidMatcher(condition.said).test(state.currentLine)
  }
  if ('turns' in condition) {
    const { gte, lte } = condition.turns
    return (gte === undefined || state.turns >= gte) && (lte === undefined || state.turns <= lte)
  }
  if ('unlocked' in condition) return has(state.unlocked, condition.unlocked)
  if ('var' in condition) {
    const [name, test] = varTest(condition.var)
    const value = state.vars && Object.hasOwn(state.vars, name) ? state.vars[name] : undefined
    return compareVar(value, test)
  }
  if ('all' in condition) return condition.all.every((c) => evaluate(c, state))
  if ('any' in condition) return condition.any.some((c) => evaluate(c, state))
  if ('not' in condition) return !evaluate(condition.not, state)
  return false
}

type VarTest = string | { gte?: number | undefined; lte?: number | undefined; gt?: number | undefined; lt?: number | undefined; eq?: number | undefined }

/** The one variable a `var:` condition names, and what it wants of it. */
export function varTest(v: Readonly<Record<string, VarTest>>): [string, VarTest] {
  const [entry] = Object.entries(v)
  return entry ?? ['', '']
}

export function compareVar(value: number | string | undefined, test: VarTest): boolean {
  if (typeof test === 'string') return value === test
  if (typeof value !== 'number') return false
  return (
    (test.gte === undefined || value >= test.gte) &&
    (test.lte === undefined || value <= test.lte) &&
    (test.gt === undefined || value > test.gt) &&
    (test.lt === undefined || value < test.lt) &&
    (test.eq === undefined || value === test.eq)
  )
}

/** `≥ 5`, `< 0 and > -3`, `= 2`: a number comparison in words. */
export function describeComparison(test: Exclude<VarTest, string>): string {
  const parts: string[] = []
  if (test.gte !== undefined) parts.push(`≥ ${test.gte}`)
  if (test.gt !== undefined) parts.push(`> ${test.gt}`)
  if (test.lte !== undefined) parts.push(`≤ ${test.lte}`)
  if (test.lt !== undefined) parts.push(`< ${test.lt}`)
  if (test.eq !== undefined) parts.push(`= ${test.eq}`)
  return parts.join(' and ')
}

/** Every `said` sub-condition, so a new player line can be checked once against each. */
export function collectSaid(condition: Condition, out: Array<{ matches: string; ignore_case?: boolean | undefined }> = []) {
  if ('said' in condition) out.push(condition.said)
  else if ('all' in condition) for (const c of condition.all) collectSaid(c, out)
  else if ('any' in condition) for (const c of condition.any) collectSaid(c, out)
  else if ('not' in condition) collectSaid(condition.not, out)
  return out
}

/** A short human reading of a condition, for the demo's "why is this locked" panel and lint output. */
export function describeCondition(condition: Condition): string {
  if ('given' in condition) {
    const g = condition.given
    return typeof g === 'string' ? `given ${g}` : `given ${g.item} ×${g.count ?? 1}`
  }
  if ('flag' in condition) return `flag ${condition.flag}`
  if ('said' in condition) return `said /${condition.said.matches}/`
  if ('turns' in condition) {
    const parts = []
    if (condition.turns.gte !== undefined) parts.push(`≥ ${condition.turns.gte}`)
    if (condition.turns.lte !== undefined) parts.push(`≤ ${condition.turns.lte}`)
    return `turns ${parts.join(' and ')}`
  }
  if ('unlocked' in condition) return `unlocked ${condition.unlocked}`
  if ('var' in condition) {
    const [name, test] = varTest(condition.var)
    return typeof test === 'string' ? `var ${name} = ${test}` : `var ${name} ${describeComparison(test)}`
  }
  if ('all' in condition) return `all of (${condition.all.map(describeCondition).join(', ')})`
  if ('any' in condition) return `any of (${condition.any.map(describeCondition).join(', ')})`
  return `not (${describeCondition(condition.not)})`
}
