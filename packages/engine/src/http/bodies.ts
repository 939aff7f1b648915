/** The request bodies the routes accept, strictly: unknown fields are refused, sizes bounded. */
import { z } from 'zod'

const id = z.string().min(1).max(100)

export const createBody = z.strictObject({
  npc: id,
  /** Continue a save: a signed save from `GET …/save`, or (the game only) a bare snapshot. */
  save: z.unknown().optional(),
})

export const messageBody = z.strictObject({
  text: z.string().max(100_000),
})

export const itemBody = z.strictObject({
  item: id,
  count: z.int().min(1).max(1_000_000).optional(),
  /**
   * The most of this item the player owns in all: the gift is refused (409 `not_enough_items`)
   * if the NPC would then hold more. Checked under the conversation's lock and the store's
   * compare-and-set, so two gifts at once cannot both pass.
   */
  max: z.int().min(0).max(1_000_000).optional(),
})

export const flagBody = z.strictObject({
  flag: id,
  on: z.boolean().optional(),
})

export const varBody = z.strictObject({
  name: id,
  // Words are ids like the variable's `one_of`; anything longer is refused before it is looked at.
  value: z.union([z.number(), z.string().min(1).max(64)]),
})

export const endBody = z.strictObject({})

export const playerTokenBody = z.strictObject({
  player: z.string().min(1).max(128),
  /** How long the token lives. Default one day, at most 30 days. */
  ttlSeconds: z.int().min(60).max(30 * 86_400).optional(),
})
