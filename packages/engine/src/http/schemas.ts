/**
 * The HTTP API's shapes, written once: the routes validate requests against them, the OpenAPI
 * document is generated from them, and `@parley/client` takes its types from them. Request bodies
 * are strict (unknown fields refused) and bounded; response shapes describe what the handler sends.
 */
import { z } from '@hono/zod-openapi'

const id = z.string().min(1).max(100)

// ---- request bodies ----

export const createBody = z
  .strictObject({
    npc: id.openapi({ description: 'The NPC to talk to.', example: 'informant' }),
    /** Continue a save: a signed save from `GET …/save`, or (the game only) a bare snapshot. */
    save: z.unknown().optional().openapi({ description: 'A signed save from `GET …/save` (or, for the game only, an unsigned snapshot from `GET …/snapshot`).' }),
  })
  .openapi('CreateConversation')

export const messageBody = z.strictObject({ text: z.string().max(100_000).openapi({ description: "The player's line." }) }).openapi('Message')

export const itemBody = z
  .strictObject({
    item: id.openapi({ description: 'An item id the NPC file declares.' }),
    count: z.int().min(1).max(1_000_000).optional(),
    /**
     * The most of this item the player owns in all: the gift is refused (409 `not_enough_items`)
     * if the NPC would then hold more. Checked under the conversation's lock and the store's
     * compare-and-set, so two gifts at once cannot both pass.
     */
    max: z.int().min(0).max(1_000_000).optional().openapi({ description: 'The most of this item the player owns in all; a gift past it is refused with 409 `not_enough_items`.' }),
  })
  .openapi('Gift')

export const flagBody = z.strictObject({ flag: id, on: z.boolean().optional().openapi({ description: 'Default true; false clears the flag.' }) }).openapi('Flag')
export const varBody = z
  .strictObject({
    name: id,
    // Words are ids like the variable's `one_of`; anything longer is refused before it is looked at.
    value: z.union([z.number(), z.string().min(1).max(64)]).openapi({ description: 'A number within the variable\'s bounds, or one of its words.' }),
  })
  .openapi('VarChange')

export const endBody = z.strictObject({}).openapi('End')

export const playerTokenBody = z
  .strictObject({
    player: z.string().min(1).max(128).openapi({ description: "The game's own account id: 1 to 128 of A-Z a-z 0-9 _ . : @ + -", example: 'acct-42' }),
    /** How long the token lives. Default one day, at most 30 days. */
    ttlSeconds: z.int().min(60).max(30 * 86_400).optional().openapi({ description: 'Default one day, at most 30 days.' }),
  })
  .openapi('PlayerTokenRequest')

export const newGameBody = z
  .strictObject({ npc: id.optional().openapi({ description: 'One NPC; without it, every NPC this server hosts.' }) })
  .openapi('NewGame')

export const memoryParams = z.object({
  npc: id.openapi({ param: { name: 'npc', in: 'path' }, description: 'The NPC id.', example: 'informant' }),
})

export const conversationParams = z.object({
  id: z.string().max(100).openapi({ param: { name: 'id', in: 'path' }, description: 'The conversation id (32 hex digits).', example: '0123456789abcdef0123456789abcdef' }),
})

// ---- responses ----

export const ERROR_CODES = [
  'invalid_json', 'invalid_body', 'invalid_idempotency_key', 'idempotency_key_reused', 'invalid_player', 'body_too_large', 'body_timeout',
  'unsupported_media_type', 'origin_not_allowed', 'host_not_allowed', 'game_routes_off', 'game_key_required', 'game_key_invalid',
  'not_found', 'unknown_npc', 'method_not_allowed', 'unknown_item', 'unknown_flag', 'unknown_var', 'invalid_var', 'not_enough_items', 'conflict', 'conversation_ended',
  'aborted', 'line_too_long', 'rate_limited', 'server_full', 'store_unavailable', 'internal', 'memory_off', 'record_invalid',
  'save_invalid', 'save_unsigned', 'save_version_unknown', 'save_signature_invalid', 'save_wrong_npc', 'save_other_player',
] as const

export const problem = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: 'A stable code to branch on; the message is for people.', examples: [...ERROR_CODES] }),
      message: z.string(),
    }),
  })
  .openapi('Problem')

const state = z.enum(['awaiting', 'preparing', 'requesting', 'streaming', 'retrying', 'acting', 'ended']).openapi('ConversationState')
const counts = z.record(z.string(), z.number())

export const message = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string(),
    tool_calls: z.array(z.object({ id: z.string(), type: z.literal('function'), index: z.number().optional(), function: z.object({ name: z.string(), arguments: z.string() }) })).optional(),
    tool_call_id: z.string().optional(),
  })
  .openapi('HistoryMessage')

/** Why the NPC knows what it knows (`convo.explain()`), passphrases masked. */
const explain = z
  .object({
    npc: z.string(),
    turns: z.number(),
    items: counts,
    flags: z.array(z.string()),
    vars: z.array(z.object({ name: z.string(), value: z.union([z.number(), z.string()]), owner: z.enum(['game', 'npc']), range: z.string(), note: z.string().optional(), told: z.array(z.string()) })),
    secrets: z.array(z.record(z.string(), z.unknown())).openapi({ description: 'Each secret with its condition tree: every leaf with its value now and its progress.' }),
    lore: z.array(z.record(z.string(), z.unknown())),
    actions: z.array(z.record(z.string(), z.unknown())),
    summary: z
      .object({ text: z.string(), coversTurns: z.number() })
      .optional()
      .openapi({ description: 'The running summary of older exchanges the next request carries (absent until the history first outgrew its window), and how many exchanges it covers.' }),
    memories: z
      .array(z.object({ text: z.string(), secrets: z.array(z.string()), carried: z.boolean() }))
      .optional()
      .openapi({ description: 'What the NPC remembers of this player: carried into the system message, or held back (text masked) because a secret it was written under is locked.' }),
    next: z.object({ facts: z.array(z.string()), hints: z.array(z.string()), lore: z.array(z.string()), actions: z.array(z.string()), systemTokens: z.number() }),
    last: z.object({ facts: z.array(z.string()), lore: z.array(z.string()), promptTokens: z.number() }).nullable(),
  })
  .openapi('Explanation')

export const playerStatus = z
  .object({ id: z.string(), npc: z.string(), state, turns: z.number(), items: counts, unlocked: z.array(z.string()) })
  .openapi('PlayerStatus')

export const playerView = playerStatus.extend({ history: z.array(z.object({ role: z.string(), content: z.string() })) }).openapi('PlayerView')

export const inspectorStatus = playerStatus
  .extend({
    provider: z.string(),
    flags: z.array(z.string()),
    vars: z.record(z.string(), z.union([z.number(), z.string()])).openapi({ description: 'Each variable the NPC declares, with its value now.' }),
    secrets: z.array(z.object({ id: z.string(), unlocked: z.boolean(), condition: z.string().openapi({ description: 'The unlock condition in words, passphrases masked.' }) })),
    explain,
    lastRequest: z.array(message).nullable(),
    lore: z.array(z.string()),
  })
  .openapi('InspectorStatus')

export const inspectorView = inspectorStatus.extend({ history: z.array(message) }).openapi('InspectorView')

/** What the caller sees of a conversation: the inspector's view for the game (and a demo that opts in). */
export const conversationView = z.union([inspectorView, playerView]).openapi('ConversationView')
export const conversationStatus = z.union([inspectorStatus, playerStatus]).openapi('ConversationStatus')

export const created = z
  .intersection(conversationView, z.object({ greeting: z.string().nullable(), returning: z.boolean().openapi({ description: 'The NPC carried memories of this player into the conversation (the server keeps memory).' }) }))
  .openapi('CreatedConversation')

export const turn = z
  .object({
    text: z.string().openapi({ description: 'What the NPC says: the reply, or an authored line.' }),
    kind: z.enum(['reply', 'nudge', 'farewell', 'fallback']),
    state,
    unlocked: z.array(z.string()).openapi({ description: 'Secrets this turn unlocked.' }),
    error: z.object({ code: z.string(), glmCode: z.string().nullable(), retryable: z.boolean() }).optional().openapi({ description: 'Why the turn fell back to an authored line.' }),
    finishReason: z.string().optional(),
    contextTrimmed: z.boolean().optional().openapi({ description: 'The prompt did not fit the model\'s window: this reply came from one more try with the history window halved.' }),
    loreFallback: z.enum(['embeddings_failed', 'embeddings_slow']).optional().openapi({ description: 'Embeddings failed or were slower than the budget: this turn\'s lore was chosen by BM25 alone.' }),
    actions: z.array(z.object({ name: z.string(), args: z.record(z.string(), z.unknown()).optional(), status: z.enum(['done', 'refused', 'invalid']), reason: z.string().optional() })).optional(),
    conversation: conversationStatus,
  })
  .openapi('Turn')

export const changed = z.object({ unlocked: z.array(z.string()), conversation: conversationStatus }).openapi('Changed')

export const ended = turn.openapi('Ended')

export const signedSave = z
  .object({ format: z.literal('parley.save'), version: z.literal(1), npc: z.string(), player: z.string().nullable(), data: z.string(), signature: z.string() })
  .openapi('SignedSave', { description: 'Keep it anywhere; the server refuses it back if anything in it changed.' })

export const snapshot = z.record(z.string(), z.unknown()).openapi('Snapshot', { description: 'An unsigned conversation snapshot, for the game to keep on its own servers.' })

export const npcList = z
  .object({
    npcs: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        greeting: z.string().nullable(),
        items: z.array(z.object({ id: z.string(), name: z.string(), description: z.string().nullable() })),
        provider: z.string(),
      }),
    ),
  })
  .openapi('NpcList')

export const memoryView = z
  .object({
    npc: z.string(),
    conversations: z.number().openapi({ description: 'Conversations remembered so far.' }),
    unlocked: z.array(z.string()).openapi({ description: 'Secrets the player has unlocked with this NPC: the next conversation starts with them.' }),
    vars: z.record(z.string(), z.union([z.number(), z.string()])).optional().openapi({ description: 'The variables a new conversation starts with (the game only).' }),
    memories: z.array(
      z.object({
        text: z.string().openapi({ description: "In the NPC's words. Masked (`•••`) for the player while a secret it was written under is locked." }),
        secrets: z.array(z.string()).openapi({ description: 'Secrets unlocked when it was written: it is carried only into conversations where all of them are unlocked.' }),
        carried: z.boolean(),
        at: z.string(),
        by: z.enum(['model', 'fallback']),
      }),
    ),
    pending: z.number().openapi({ description: 'Finished conversations whose memory is still being written.' }),
  })
  .openapi('Memory')

export const newGame = z.object({ cleared: z.array(z.string()) }).openapi('NewGameDone')
export const forgotten = z.object({ deleted: z.number().openapi({ description: 'Records deleted.' }) }).openapi('Forgotten')

export const playerToken = z.object({ token: z.string().openapi({ description: 'Send as `x-parley-client`.' }), player: z.string(), expiresAt: z.string() }).openapi('PlayerToken')

// ---- the stream ----

export const deltaEvent = z.object({ text: z.string() }).openapi('DeltaEvent', { description: '`event: delta`: the next piece of the reply.' })
export const doneEvent = turn.openapi('DoneEvent', { description: '`event: done`: the finished turn, as the JSON answer would have been.' })
export const errorEvent = problem.openapi('ErrorEvent', { description: '`event: error`: the turn failed after the stream began.' })
export const streamEvents = z
  .union([
    z.object({ event: z.literal('delta'), data: deltaEvent }),
    z.object({ event: z.literal('done'), data: doneEvent }),
    z.object({ event: z.literal('error'), data: errorEvent }),
  ])
  .openapi('StreamEvent', { description: 'One server-sent event: `event: <event>` then `data: <JSON of data>`.' })

export type CreateConversation = z.input<typeof createBody>
export type Gift = z.input<typeof itemBody>
export type FlagChange = z.input<typeof flagBody>
export type PlayerTokenRequest = z.input<typeof playerTokenBody>
export type Problem = z.output<typeof problem>
export type PlayerView = z.output<typeof playerView>
export type InspectorView = z.output<typeof inspectorView>
export type ConversationView = z.output<typeof conversationView>
export type ConversationStatus = z.output<typeof conversationStatus>
export type CreatedConversation = z.output<typeof created>
export type Turn = z.output<typeof turn>
export type Changed = z.output<typeof changed>
export type SignedSaveBody = z.output<typeof signedSave>
export type NpcList = z.output<typeof npcList>
export type PlayerToken = z.output<typeof playerToken>
export type MemoryView = z.output<typeof memoryView>
export type NewGameDone = z.output<typeof newGame>
export type Forgotten = z.output<typeof forgotten>
export type StreamEvent = z.output<typeof streamEvents>
export type ErrorCode = (typeof ERROR_CODES)[number]
