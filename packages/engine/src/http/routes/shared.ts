/**
 * What every route file shares: the app's context (who is calling, from where), the pieces a
 * route calls before its own work (game-only, rate limits, room for more, the capped body read),
 * and the OpenAPI description of headers, security and error answers, so each route states once
 * which codes it can answer with.
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import type { Npc } from '../../content/schema.ts'
import type { Provider } from '../../providers/types.ts'
import type { MemoryKeeper } from '../../memory/keeper.ts'
import { requireGame, type Caller } from '../caller.ts'
import type { HandlerSettings } from '../config.ts'
import type { RequestLimits } from '../limits.ts'
import { readJsonText } from '../read-body.ts'
import { problem, type ErrorCode } from '../schemas.ts'
import type { ConversationService } from '../service.ts'
import type { KeyRing } from '../signing.ts'

export interface AppEnv {
  Bindings: { caller: Caller; address: string | undefined }
}
export type Api = OpenAPIHono<AppEnv>

export interface RouteDeps {
  service: ConversationService
  limits: RequestLimits
  config: HandlerSettings
  gameKeys: readonly string[]
  ring: KeyRing
  npcs: ReadonlyMap<string, Npc>
  providerFor: (npc: Npc) => Provider
  now: () => number
  /** Present when the server keeps memory of players. */
  keeper?: MemoryKeeper | undefined
}

/** Game-only routes: off (404) without a configured game key, 401 for a player. */
export const gameOnly = (d: RouteDeps, what: string): MiddlewareHandler<AppEnv> => async (c, next) => {
  requireGame(c.env.caller, d.gameKeys, what)
  await next()
}

/** Per-player and per-address limits; the game's own calls are limited only by the player it names. */
export const limited = (d: RouteDeps, kind: 'turn' | 'create'): MiddlewareHandler<AppEnv> => async (c, next) => {
  const { caller, address } = c.env
  d.limits.take(kind, { player: caller.player, address: caller.kind === 'player' ? address : undefined })
  await next()
}

export const roomForMore = (d: RouteDeps): MiddlewareHandler<AppEnv> => async (_c, next) => {
  d.service.checkRoom()
  await next()
}

/**
 * Reads the body under the size cap and deadline before the validator sees it, and hands the
 * validator the text: hono's own body reading has neither limit.
 */
export const cappedBody = (d: RouteDeps): MiddlewareHandler<AppEnv> => async (c, next) => {
  const { text } = await readJsonText(c.req.raw, d.config.body)
  // hono keeps read bodies as promises under the Body method's name; the validator reads `text`.
  ;(c.req.bodyCache as Record<string, Promise<unknown>>).text = Promise.resolve(text)
  await next()
}

// ---- the OpenAPI side ----

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/)
    .optional()
    .openapi({ description: 'Any 1 to 128 visible ASCII characters, new for each intended change. A request repeated with the same key gets the first answer again and changes nothing more.', example: 'b6f1c2e0-turn-7' }),
  'x-parley-player': z.string().optional().openapi({ description: "Game only: the game's account id of the player it acts for." }),
})
export const readHeaders = z.object({
  'x-parley-player': z.string().optional().openapi({ description: "Game only: the game's account id of the player it acts for." }),
})

export const PLAYER_OR_GAME: Record<string, string[]>[] = [{ playerCookie: [] }, { playerToken: [] }, { gameKey: [] }]
export const GAME_ONLY: Record<string, string[]>[] = [{ gameKey: [] }]

/** For answers the service builds itself (created conversations, turns, streams): their shapes are pinned by the client tests. */
export const served = (r: Response | Promise<Response>) => r as never

/** Each code's status (one code can mean two statuses; see game_routes_off). */
const STATUS: Record<ErrorCode, number[]> = {
  invalid_json: [400], invalid_body: [400], invalid_idempotency_key: [400], invalid_player: [400], unknown_item: [400], unknown_flag: [400], unknown_var: [400], invalid_var: [400], line_too_long: [400],
  save_invalid: [400], save_version_unknown: [400], save_signature_invalid: [400], save_wrong_npc: [400],
  game_routes_off: [401, 404], game_key_required: [401], game_key_invalid: [401],
  origin_not_allowed: [403], host_not_allowed: [403], save_unsigned: [403], save_other_player: [403],
  not_found: [404], unknown_npc: [404], method_not_allowed: [405], body_timeout: [408],
  idempotency_key_reused: [409], not_enough_items: [409], conflict: [409], conversation_ended: [409], aborted: [409],
  body_too_large: [413], unsupported_media_type: [415], rate_limited: [429], internal: [500], server_full: [503], store_unavailable: [503], memory_off: [404], record_invalid: [500],
}
const HEADERS: Record<number, Record<string, { description: string; schema: { type: 'string' } }>> = {
  401: { 'www-authenticate': { description: 'Bearer', schema: { type: 'string' } } },
  429: { 'retry-after': { description: 'Seconds to wait before trying again.', schema: { type: 'string' } } },
  503: { 'retry-after': { description: 'Seconds to wait before trying again.', schema: { type: 'string' } } },
}

const EVERY_ROUTE: ErrorCode[] = ['host_not_allowed', 'game_key_invalid', 'game_routes_off', 'invalid_player', 'internal', 'store_unavailable']
const STATE_CHANGE: ErrorCode[] = ['origin_not_allowed', 'unsupported_media_type', 'body_too_large', 'body_timeout', 'invalid_json', 'invalid_body']
const ON_A_CONVERSATION: ErrorCode[] = ['not_found', 'unknown_npc']

/** The error answers of a route, by status, each listing its codes. */
export function errors(kind: { changes?: boolean; conversation?: boolean; game?: boolean }, codes: ErrorCode[]) {
  const all = new Set<ErrorCode>([...EVERY_ROUTE, ...(kind.changes ? STATE_CHANGE : []), ...(kind.conversation ? ON_A_CONVERSATION : []), ...(kind.game ? (['game_key_required'] as const) : []), ...codes])
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of all) for (const s of code === 'game_routes_off' && !kind.game ? [401] : STATUS[code]) byStatus.set(s, [...(byStatus.get(s) ?? []), code])
  const out: Record<string, { description: string; content: { 'application/json': { schema: typeof problem } }; headers?: (typeof HEADERS)[number] }> = {}
  for (const [s, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(s)] = { description: `Refused: ${list.map((c) => `\`${c}\``).join(', ')}.`, content: { 'application/json': { schema: problem } }, ...(HEADERS[s] && { headers: HEADERS[s] }) }
  }
  return out
}

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } })
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } })
