export type { Condition, GameState } from './types.ts'
export { evaluate, collectSaid, describeCondition, saidKey } from './evaluate.ts'
export { saidMatcher, saidPatternProblem } from './said-pattern.ts'
export type { SaidMatcher, SaidSpec } from './said-pattern.ts'
