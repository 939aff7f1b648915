/**
 * @module @parley/engine: NPC dialogue on Zhipu's GLM chat API. Runs in browsers and Node;
 * file loading lives in `@parley/engine/node`, the web handler in `@parley/engine/http`.
 */
export * from './content/index.ts'
export * from './conditions/index.ts'
export * from './glm/index.ts'
export { ParleyError, isParleyError } from './errors.ts'
export type { ParleyErrorCode } from './errors.ts'
export * from './prompt/index.ts'
export * from './providers/index.ts'
export * from './conversation/index.ts'
export { createDialogueHandler } from './http/index.ts'
export type { DialogueHandlerOptions } from './http/index.ts'
export * from './lore/index.ts'
export { toolFor, offeredActions, parseCall } from './actions/tools.ts'
export type { GlmTool, ParsedCall } from './actions/tools.ts'
export * from './store/index.ts'
export * from './inspect/index.ts'
export * from './scenarios/index.ts'
