/** @module @parley/engine/http: the engine as a web-standard `(Request) => Promise<Response>`. */
export { createDialogueHandler } from './handler.ts'
export type { DialogueHandlerOptions } from './handler.ts'
