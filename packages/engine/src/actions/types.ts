/** The action vocabulary shared by the turn, the game and the results: calls, outcomes, records, settings. */

/** A call the model made and the engine validated, for the game to carry out or refuse. */
export interface ActionCall {
  /** The model's tool call id. */
  id: string
  name: string
  args: Record<string, unknown>
}

/** The game's answer. `result` goes back to the model; `reason` tells it why not. */
export type ActionOutcome = { ok: true; result?: unknown } | { ok: false; reason: string }

/** What became of one call, in the turn's result. */
export interface ActionRecord {
  name: string
  args?: Record<string, unknown> | undefined
  status: 'done' | 'refused' | 'invalid'
  reason?: string | undefined
}

export interface ActionSettings {
  /** Decides each action the model asks for; without it the game answers with `resolveAction`. */
  handler?: ((call: ActionCall) => ActionOutcome | Promise<ActionOutcome>) | undefined
  /** How long the game has to answer before the action counts as refused. Default 10 s. */
  timeoutMs?: number | undefined
}
