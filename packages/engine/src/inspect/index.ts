export { explainConversation } from './explain.ts'
export type { Explanation, ExplainFacts, LastRequestFacts, SecretExplanation, LoreExplanation, ActionExplanation, MemoryExplanation } from './explain.ts'
export { formatExplanation } from './format.ts'
