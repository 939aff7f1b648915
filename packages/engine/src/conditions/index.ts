export type { Condition, GameState } from './types.ts'
export { evaluate, collectSaid, describeCondition, saidKey, saidRegex } from './evaluate.ts'
