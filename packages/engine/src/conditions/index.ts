export type { Condition, GameState } from './types.ts'
export { evaluate, collectSaid, describeCondition, saidKey, saidRegex } from './evaluate.ts'
export { explainCondition, formatConditionLine, formatConditionTree } from './explain.ts'
export type { ExplainedCondition, ConditionKind, ExplainOptions } from './explain.ts'
