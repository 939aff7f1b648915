/** The game's decision on one call, when the game gave a handler: an actor the `acting` state invokes. */
import { fromPromise } from 'xstate'
import type { ActionCall, ActionOutcome, ActionSettings } from './types.ts'

export const decideActor = fromPromise<ActionOutcome, { call: ActionCall; handler: NonNullable<ActionSettings['handler']> }>(async ({ input }) => {
  try {
    return await input.handler(input.call)
  } catch (error) {
    return { ok: false, reason: `the game failed: ${error instanceof Error ? error.message : String(error)}` }
  }
})

/** A decision from outside (the handler's result or `resolveAction`) may be anything: only well-formed ones count. */
export function asOutcome(value: unknown): ActionOutcome {
  if (value && typeof value === 'object' && 'ok' in value) {
    const v = value as { ok: unknown; reason?: unknown; result?: unknown }
    if (v.ok === true) return v.result === undefined ? { ok: true } : { ok: true, result: v.result }
    if (v.ok === false) return { ok: false, reason: typeof v.reason === 'string' ? v.reason : 'refused' }
  }
  return { ok: false, reason: 'the game answered with something that is not an outcome' }
}
