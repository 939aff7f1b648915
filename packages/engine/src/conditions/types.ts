import type { z } from 'zod'
import type { conditionSchema } from '../content/schema.ts'

/**
 * A condition is a one-key object, so YAML reads as prose: `{ given: red_gem }`,
 * `{ all: [ {flag: met_boss}, {not: {given: gold}} ] }`. Inferred from the schema that checks it.
 */
export type Condition = z.output<typeof conditionSchema>

/** What the evaluator may look at: facts reported by the game and the player's own words. */
export interface GameState {
  /** Items the player has given this NPC, by item id, with counts. */
  readonly items: Readonly<Record<string, number>>
  readonly flags: ReadonlySet<string> | readonly string[]
  /** Completed player turns. */
  readonly turns: number
  /** `said` patterns that matched an earlier player line (kept so old lines need not be rescanned). */
  readonly saidPatterns?: ReadonlySet<string> | readonly string[]
  /** Secrets already unlocked (sticky), for `unlocked:` conditions. */
  readonly unlocked?: ReadonlySet<string> | readonly string[]
  /** Variables' values now (declared ones are always present; a missing one never compares true). */
  readonly vars?: Readonly<Record<string, number | string>> | undefined
  /** The player's line being answered now, if any. */
  readonly currentLine?: string | undefined
}
