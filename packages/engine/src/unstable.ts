/**
 * @module @parley/engine/unstable: the engine's building blocks (the conversation machine, the
 * reducer and turn builder, prompt and lore internals, the action checks, the GLM client's
 * helpers). For tools, tests and experiments: names here may change in any release. A game
 * needs only what `@parley/engine` exports.
 */
export * from './content/index.ts'
export * from './conditions/index.ts'
export * from './glm/index.ts'
export * from './prompt/index.ts'
export * from './providers/index.ts'
export * from './conversation/index.ts'
export * from './lore/index.ts'
export * from './store/index.ts'
export * from './inspect/index.ts'
export * from './memory/index.ts'
export * from './scenarios/index.ts'
export { toolFor, offeredActions, parseCall } from './actions/tools.ts'
export type { GlmTool, ParsedCall } from './actions/tools.ts'
export { checkCall, openRound, decideCall, rejectCall, closeRound, flagsWithEffects, emptyLog } from './actions/round.ts'
export type { ActionLog, Round, Effect } from './actions/round.ts'
export type { ActionCall, ActionOutcome, ActionRecord, ActionSettings } from './actions/types.ts'
export { giveItem, setFlag, commitTurn, failTurn, newlyUnlocked } from './conversation/state.ts'
export { ParleyError, isParleyError, PARLEY_ERROR_CODES } from './errors.ts'
export type { ParleyErrorCode } from './errors.ts'
