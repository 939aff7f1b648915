/**
 * The scenario file: named scenarios, each a list of steps (say, give, flag, var, save, restore, end)
 * with expectations checked after the step. Same conventions as the NPC file: strict keys, ids in
 * lowercase, one JSON Schema for editors (`parley schema --scenario`).
 */
import { z } from 'zod'

const id = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'ids use lowercase letters, digits, "_" and "-", starting with a letter')
const actionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'action names use letters, digits, "_" and "-"')
const text = z.string().min(1, 'must not be empty')
const oneOrMore = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)])

const textCheck = z.strictObject({
  contains: oneOrMore(text).optional().describe('every one of these texts appears'),
  not_contains: oneOrMore(text).optional().describe('none of these texts appears'),
})

export const STATES = ['awaiting', 'thinking', 'streaming', 'retrying', 'acting', 'ended'] as const

export const expectSchema = z
  .strictObject({
    unlocked: oneOrMore(id).optional().describe('these secrets are unlocked now'),
    locked: oneOrMore(id).optional().describe('these secrets are still locked'),
    flags: z.record(id, z.boolean()).optional().describe('flag: true (set) or false (not set)'),
    vars: z
      .record(
        id,
        z.union([
          z.number(),
          id,
          z.strictObject({ gte: z.number().optional(), lte: z.number().optional(), gt: z.number().optional(), lt: z.number().optional(), eq: z.number().optional() }),
        ]),
      )
      .optional()
      .describe('variables now: a value (`trust: 5`, `mood: angry`) or a comparison (`trust: { gte: 5 }`)'),
    state: z.enum(STATES).optional().describe('the conversation\'s state after the step'),
    kind: z.enum(['reply', 'nudge', 'farewell', 'fallback']).optional().describe('what kind of answer the line got'),
    did: oneOrMore(actionName).optional().describe('offline only: actions the NPC took and the game carried out in this step'),
    refused: oneOrMore(actionName).optional().describe('offline only: actions the NPC asked for and the game refused in this step'),
    reply: z
      .union([text, textCheck.extend({ matches: text.optional().describe('a regular expression') })])
      .optional()
      .describe('offline only: the NPC\'s answer contains this text (or contains / not_contains / matches)'),
    request: textCheck.optional().describe('the request(s) sent to the model in this step (or, in a step that sends none, the next one) contain / never contain these texts'),
    prompt_tokens: z.strictObject({ max: z.int().min(1) }).optional().describe('every request of this step stays within this many prompt tokens'),
    error: z.string().regex(/^[a-z_]+$/).optional().describe('the step fails with this error code (conversation_ended, line_too_long, unknown_item, …)'),
  })
  .describe('checked after the step; every one must hold')

export const stepSchema = z.strictObject({
  say: z.string().optional().describe('the player says this line (an empty line gets the nudge)'),
  give: z.union([id, z.strictObject({ item: id, count: z.int().min(1).default(1) })]).optional().describe('the game reports a gift'),
  flag: z.union([id, z.strictObject({ name: id, on: z.boolean().default(true) })]).optional().describe('the game sets (or, with on: false, clears) a flag'),
  var: z.record(id, z.union([z.number(), id])).optional().describe('the game sets variables, in order: `{ trust: 5 }`, `{ mood: calm }`'),
  save: id.optional().describe('keep a save game under this name'),
  restore: z
    .union([id, z.strictObject({ file: text.describe('a save game (JSON, as convo.snapshot() or GET …/snapshot gives it), relative to this file') })])
    .optional()
    .describe('continue from a save made earlier in this scenario, or from a save file'),
  end: z.literal(true).optional().describe('the game ends the conversation'),
  refuse: oneOrMore(actionName).optional().describe('the game refuses these actions if the NPC asks in this step (others are carried out)'),
  expect: expectSchema.optional(),
})

export const STEP_KINDS = ['say', 'give', 'flag', 'var', 'save', 'restore', 'end'] as const

export const scenarioFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    npc: id.optional().describe('the NPC id; default: the NPC file beside this one with the same name (informant.test.yaml → informant.yaml)'),
    scenarios: z
      .array(
        z.strictObject({
          name: text.describe('what this scenario shows, in a sentence'),
          offline: z.boolean().optional().describe('true: it relies on the scripted provider\'s choices (what it says or does), so --provider glm skips it and lists it'),
          steps: z.array(stepSchema).min(1),
        }),
      )
      .min(1),
  })
  .describe('Parley NPC scenarios (parley test)')

export type ScenarioFile = z.output<typeof scenarioFileSchema>
export type Scenario = ScenarioFile['scenarios'][number]
export type Step = z.output<typeof stepSchema>
export type Expectations = z.output<typeof expectSchema>

/** The JSON Schema editors use for `*.test.yaml` files. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(scenarioFileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return { ...schema, $id: 'https://parley.dev/scenario.schema.json', title: 'Parley NPC scenarios' }
}
