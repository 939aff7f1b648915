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
  if ('all' in condition) return condition.all.every((c) => evaluate(c, state))
  if ('any' in condition) return condition.any.some((c) => evaluate(c, state))
  if ('not' in condition) return !evaluate(condition.not, state)
  return false
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
  if ('all' in condition) return `all of (${condition.all.map(describeCondition).join(', ')})`
  if ('any' in condition) return `any of (${condition.any.map(describeCondition).join(', ')})`
  return `not (${describeCondition(condition.not)})`
}
