import { z } from 'zod'

export const createBody = z.strictObject({
  npc: z.string().min(1).max(100),
  /** Continue a saved game instead of starting fresh. */
  snapshot: z.unknown().optional(),
})

export const messageBody = z.strictObject({
  text: z.string().max(100_000),
})

export const itemBody = z.strictObject({
  item: z.string().min(1).max(100),
  count: z.int().min(1).max(1_000_000).optional(),
})

export const flagBody = z.strictObject({
  flag: z.string().min(1).max(100),
  on: z.boolean().optional(),
})
