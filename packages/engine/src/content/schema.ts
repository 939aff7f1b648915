import { z } from 'zod'

const id = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, 'ids use lowercase letters, digits, "_" and "-", starting with a letter')
const text = z.string().trim().min(1, 'must not be empty')

export const CONDITION_KEYS = ['given', 'flag', 'said', 'turns', 'unlocked', 'var', 'all', 'any', 'not']

const givenCondition = z.strictObject({
  given: z
    .union([id, z.strictObject({ item: id, count: z.int().min(1).optional().describe('at least this many (default 1)') })])
    .describe('the player gave this item (optionally at least `count` of it)'),
})
const flagCondition = z.strictObject({ flag: id.describe('the game set this flag') })
const saidCondition = z.strictObject({
  said: z
    .strictObject({
      matches: z.string().min(1).describe('an RE2 regular expression, found anywhere in the player\'s own line (matched in linear time; no backreferences or lookaround)'),
      ignore_case: z.boolean().optional().describe('default true'),
    })
    .describe('the player has said something matching this pattern'),
})
const turnsCondition = z.strictObject({
  turns: z.strictObject({ gte: z.int().min(0).optional(), lte: z.int().min(0).optional() }).describe('the number of completed player turns'),
})
const unlockedCondition = z.strictObject({
  unlocked: id.describe('this secret (of the same NPC) has unlocked; unlocks are sticky, so this stays true'),
})
const comparison = z
  .strictObject({
    gte: z.number().optional(),
    lte: z.number().optional(),
    gt: z.number().optional(),
    lt: z.number().optional(),
    eq: z.number().optional(),
  })
  .refine((c) => Object.keys(c).length > 0, 'compare with at least one of gte, lte, gt, lt, eq')
const varCondition = z.strictObject({
  var: z
    .record(id, z.union([id.describe('a word variable equals this word'), comparison.describe('a number variable compared: all given bounds hold')]))
    .refine((v) => Object.keys(v).length === 1, 'name exactly one variable; wrap several in "all: [...]"')
    .describe('a variable declared under "vars:" compares so: `{ trust: { gte: 5 } }` or `{ mood: angry }`'),
})
const allCondition = z.strictObject({
  get all(): z.ZodArray<typeof conditionSchema> {
    return z.array(conditionSchema).min(1).describe('every condition holds')
  },
})
const anyCondition = z.strictObject({
  get any(): z.ZodArray<typeof conditionSchema> {
    return z.array(conditionSchema).min(1).describe('at least one condition holds')
  },
})
const notCondition = z.strictObject({
  get not(): typeof conditionSchema {
    return conditionSchema.describe('the condition does not hold')
  },
})

/**
 * Designers write `{ given: red_gem }`: a condition is an object with exactly one of these keys,
 * so `{}` and `{ given: a, flag: b }` are refused. The `Condition` type is inferred from here.
 */
export const conditionSchema = z.union([givenCondition, flagCondition, saidCondition, turnsCondition, varCondition, allCondition, anyCondition, unlockedCondition, notCondition])

const secretSchema = z.strictObject({
  id: id.describe('unique within this NPC'),
  fact: text.describe('what the NPC knows; never sent to the model until unlocked'),
  locked_hint: text.optional().describe('sent while locked: tells the NPC it holds a secret, without the secret'),
  unlock: conditionSchema.describe('evaluated by the engine from game events, never by the model'),
  on_unlock: text.optional().describe('an instruction added to the system message once unlocked'),
  reveal: text.optional().describe('what the scripted provider says when the secret unlocks (default: the fact)'),
})

const replySchema = z.strictObject({
  keywords: z.array(text).min(1).optional().describe('any of these in the player\'s line selects this reply'),
  when: conditionSchema.optional().describe('the reply is only available while this holds'),
  say: text,
  action: z
    .strictObject({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).default({}) })
    .optional()
    .describe('the scripted NPC does this action first (if it is offered), then says the line'),
})

const parameterSchema = z.strictObject({
  type: z.enum(['string', 'integer', 'number', 'boolean']),
  description: text.optional(),
  enum: z.array(z.union([z.string(), z.number()])).min(1).optional().describe('the only values allowed'),
  required: z.boolean().default(true),
})

const owner = z
  .enum(['game', 'npc'])
  .default('game')
  .describe('who may change it: game (game events and game routes only; the default) or npc (also its actions, which the model proposes)')
const note = text.optional().describe('for designers and the behind-the-scenes panel; not sent to the model')
const numberVar = z.strictObject({
  default: z.number().describe('the value a new conversation starts with'),
  min: z.number().optional(),
  max: z.number().optional(),
  owner,
  note,
  describe: z
    .array(z.strictObject({ gte: z.number().optional(), lte: z.number().optional(), text: text.describe('told to the model while the value is in this range') }))
    .default([])
    .describe('how the NPC sees the value, by range; every matching entry is told to the model'),
})
const wordVar = z.strictObject({
  one_of: z.array(id).min(1).describe('the words this variable may hold'),
  default: id,
  owner,
  note,
  describe: z.record(id, text).default({}).describe('word → what the model is told while the variable holds it'),
})
/** A number with a default and bounds, or one of a set of words. */
export const varSchema = z.union([numberVar, wordVar])

const actionSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'action names use letters, digits, "_" and "-" (at most 64), as GLM\'s tools require'),
  description: text.describe('tells the model when to use it'),
  parameters: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'parameter names are identifiers'), parameterSchema).default({}),
  when: conditionSchema.optional().describe('the action is offered to the model only while this holds'),
  effect: z
    .strictObject({
      set_flag: id.optional().describe('set when the game carries the action out, so conditions can see it'),
      end_conversation: z.boolean().optional().describe('the conversation ends after the NPC\'s line'),
      add: z.record(id, z.number()).optional().describe('adds to number variables (owner: npc), clamped to their bounds'),
      set: z.record(id, z.union([z.number(), id])).optional().describe('sets variables (owner: npc) to a number or one of their words'),
    })
    .optional(),
})

export const npcSchema = z
  .strictObject({
    $schema: z.string().optional(),
    id: id.describe('unique across all NPC files'),
    name: text,
    model: z
      .strictObject({
        name: text.default('glm-4-flash').describe('GLM model id, e.g. glm-4-flash, glm-4.5'),
        temperature: z.number().min(0).max(1).optional(),
        top_p: z.number().min(0).max(1).optional(),
        max_tokens: z.int().min(1).max(98304).optional(),
        thinking: z.boolean().optional().describe('GLM-4.5+ reasoning; off by default for snappy dialogue'),
      })
      .default({ name: 'glm-4-flash' }),
    persona: text.describe('who the NPC is; the start of every system message'),
    greeting: text.optional(),
    lines: z
      .strictObject({
        nudge: text.describe('said when the player sends an empty line; no model call'),
        fallback: text.describe('said when the model failed and retries are spent'),
        farewell: text.describe('said when the conversation ends'),
        welcome_back: text.optional().describe('the greeting for a player the NPC remembers (a server that keeps memory); default: greeting'),
      })
      .describe('authored lines the engine says without the model'),
    exit_phrases: z.array(text).default([]).describe('player lines that end the conversation (punctuation width and spaces ignored)'),
    max_failures: z.int().min(1).max(100).default(3).describe('consecutive failed turns before the NPC ends the conversation'),
    max_line_chars: z.int().min(1).max(100000).default(2000).describe('longest player line accepted'),
    history: z
      .strictObject({
        max_tokens: z.int().min(64).max(1_000_000).default(2000).describe('the window of recent exchanges, sent word for word'),
        summary_tokens: z
          .int()
          .min(0)
          .max(8000)
          .default(300)
          .describe('the running summary that older exchanges are folded into (with a provider that can summarise); 0: no summary, the oldest exchanges are dropped'),
      })
      .default({ max_tokens: 2000, summary_tokens: 300 })
      .describe('token budgets for remembered conversation: recent exchanges word for word, older ones as a running summary'),
    examples: z
      .array(z.strictObject({ player: text, npc: text }))
      .default([])
      .describe('example exchanges sent before the real conversation, never trimmed'),
    items: z.record(id, z.strictObject({ name: text, description: text.optional() })).default({}),
    flags: z
      .record(id, z.strictObject({ note: text.optional().describe('told to the NPC while the flag is set') }).nullable())
      .optional()
      .describe('when present, conditions may only name flags declared here'),
    vars: z.record(id, varSchema).default({}).describe('variables conditions compare and the game (or, with owner: npc, the NPC\'s actions) changes'),
    secrets: z.array(secretSchema).default([]),
    actions: z.array(actionSchema).default([]).describe('what the NPC can do in the game, through GLM function calling'),
    max_action_rounds: z.int().min(1).max(10).default(3).describe('tool calls allowed in one turn before the NPC must speak'),
    lore: z
      .strictObject({
        sources: z
          .array(
            z.strictObject({
              id: id.optional().describe('names the entry in lint output and the behind-the-scenes panel'),
              text: text.optional().describe('the lore itself, inline'),
              file: text.optional().describe('a Markdown or text file under 1 MB, relative to this NPC file and inside the content root (the folder holding npcs/ and lore/); may be shared by several NPCs'),
              keywords: z.array(text).min(1).optional().describe('a player line containing one of these ranks this entry first'),
              priority: z.int().min(0).max(10).default(0).describe('breaks ties between equally relevant entries'),
              unlock: conditionSchema.optional().describe('gated lore: never retrieved, embedded or sent until this holds'),
            }),
          )
          .min(1),
        retriever: z.enum(['bm25', 'embeddings', 'hybrid']).default('bm25').describe('bm25 works offline; embeddings and hybrid use GLM embedding-3'),
        top_k: z.int().min(1).max(20).default(3),
        embedding_budget_ms: z
          .int()
          .min(0)
          .max(60_000)
          .optional()
          .describe('embeddings and hybrid: how long a turn waits for embeddings before it answers with BM25 alone (default 300)'),
        max_tokens: z.int().min(50).max(8000).default(600).describe('budget for retrieved lore in each system message'),
        chunk: z
          .strictObject({ window: z.int().min(20).max(4000).default(160), overlap: z.int().min(0).max(1000).default(30) })
          .default({ window: 160, overlap: 30 })
          .describe('sliding window over sentences, in tokens'),
      })
      .optional()
      .describe('what the NPC knows of its world, retrieved per turn'),
    scripted: z
      .strictObject({
        replies: z.array(replySchema).default([]),
        default: text,
      })
      .optional()
      .describe('lines for the offline scripted provider (demo and tests without a GLM key)'),
  })
  .describe('A Parley NPC')

export type NpcFile = z.output<typeof npcSchema>
export type Secret = NpcFile['secrets'][number]
export type ScriptedReply = NonNullable<NpcFile['scripted']>['replies'][number]
export type LoreSource = NonNullable<NpcFile['lore']>['sources'][number]
export type NpcAction = NpcFile['actions'][number]
export type VarDecl = NpcFile['vars'][string]
export type VarValue = number | string

/** A validated NPC, with where it came from. */
export interface Npc extends NpcFile {
  readonly source: string
}
