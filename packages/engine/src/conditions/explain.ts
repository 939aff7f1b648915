/**
 * Why a condition holds or not: the condition as a tree, every leaf with its value now and its
 * progress (`ration_chip 3/3 ✓`, `turns 1/4 ✗`). Pure, like `evaluate`, and always agrees with it.
 */
import { describeComparison, evaluate, saidKey, varTest } from './evaluate.ts'
import type { Condition, GameState } from './types.ts'

export type ConditionKind = 'given' | 'flag' | 'said' | 'turns' | 'unlocked' | 'var' | 'all' | 'any' | 'not'

export interface ExplainedCondition {
  kind: ConditionKind
  /** What it tests, in a designer's words: `red_gem`, `flag met_boss`, `turns`, `all of`. */
  label: string
  holds: boolean
  /** The leaf's value now, against what it needs: `3/3`, `1/4`, `set`, `not set`, `matched`. */
  progress?: string | undefined
  children?: ExplainedCondition[] | undefined
}

function has(set: ReadonlySet<string> | readonly string[] | undefined, value: string): boolean {
  if (!set) return false
  return 'has' in set ? set.has(value) : set.includes(value)
}

export interface ExplainOptions {
  /** Show `said` patterns as `said (a passphrase)`: for any view a player might read. */
  hidePatterns?: boolean | undefined
}

export function explainCondition(condition: Condition, state: GameState, options: ExplainOptions = {}): ExplainedCondition {
  const holds = evaluate(condition, state)
  if ('given' in condition) {
    const g = condition.given
    const item = typeof g === 'string' ? g : g.item
    const need = typeof g === 'string' ? 1 : (g.count ?? 1)
    return { kind: 'given', label: item, holds, progress: `${state.items[item] ?? 0}/${need}` }
  }
  if ('flag' in condition) return { kind: 'flag', label: `flag ${condition.flag}`, holds, progress: holds ? 'set' : 'not set' }
  if ('said' in condition) {
    // A `said` that matched once stays true: it is remembered, not re-read from history.
    const before = has(state.saidPatterns, saidKey(condition.said))
    return { kind: 'said', label: options.hidePatterns ? 'said (a passphrase)' : `said /${condition.said.matches}/`, holds, progress: before ? 'matched' : holds ? 'matches this line' : 'not yet' }
  }
  if ('turns' in condition) {
    const { gte, lte } = condition.turns
    const progress = gte !== undefined && lte !== undefined ? `${state.turns} in ${gte}–${lte}` : gte !== undefined ? `${state.turns}/${gte}` : `${state.turns} ≤ ${lte}`
    return { kind: 'turns', label: 'turns', holds, progress }
  }
  if ('unlocked' in condition) return { kind: 'unlocked', label: `unlocked ${condition.unlocked}`, holds, progress: holds ? 'unlocked' : 'locked' }
  if ('var' in condition) {
    const [name, test] = varTest(condition.var)
    const value = state.vars && Object.hasOwn(state.vars, name) ? state.vars[name] : undefined
    const now = value === undefined ? 'unset' : String(value)
    if (typeof test === 'string') return { kind: 'var', label: name, holds, progress: `${now}/${test}` }
    // `trust 3/5` reads as "3 of the 5 it needs" for the common one-bound `gte`; other shapes spell the test out.
    const only = Object.keys(test)
    const progress = only.length === 1 && test.gte !== undefined ? `${now}/${test.gte}` : `${now} (${describeComparison(test)})`
    return { kind: 'var', label: name, holds, progress }
  }
  if ('all' in condition) return { kind: 'all', label: 'all of', holds, children: condition.all.map((c) => explainCondition(c, state, options)) }
  if ('any' in condition) return { kind: 'any', label: 'any of', holds, children: condition.any.map((c) => explainCondition(c, state, options)) }
  return { kind: 'not', label: 'not', holds, children: [explainCondition(condition.not, state, options)] }
}

const mark = (holds: boolean) => (holds ? '✓' : '✗')

/**
 * One line: `ration_chip 3/3 ✓ · turns 1/4 ✗` for a top-level `all`, nested groups in brackets:
 * `any of (flag guild_member not set ✗ · permit 0/1 ✗) ✗`.
 */
export function formatConditionLine(node: ExplainedCondition, top = true): string {
  if (!node.children) return `${node.label} ${node.progress} ${mark(node.holds)}`
  const inner = node.children.map((c) => formatConditionLine(c, false)).join(' · ')
  if (top && node.kind === 'all') return inner
  return `${node.label} (${inner}) ${mark(node.holds)}`
}

/** The tree, one node a line, indented: for terminals and logs. */
export function formatConditionTree(node: ExplainedCondition, indent = ''): string[] {
  const head = `${indent}${mark(node.holds)} ${node.label}${node.progress ? ` ${node.progress}` : ''}`
  return [head, ...(node.children ?? []).flatMap((c) => formatConditionTree(c, indent + '  '))]
}
