/**
 * What an NPC remembers of a player: read it, start a new game (the player clears their own), or
 * forget the player (the game: the right to be forgotten). Whose record is never read from a
 * request body or path: it is the caller's own signed identity, or the player the game names
 * with its key, so no player can read or clear another's.
 */
import { createRoute } from '@hono/zod-openapi'
import type { Caller } from '../caller.ts'
import { HttpProblem } from '../problem.ts'
import { forgotten, memoryParams, memoryView, newGame, newGameBody } from '../schemas.ts'
import { cappedBody, errors, GAME_ONLY, gameOnly, jsonBody, jsonContent, limited, PLAYER_OR_GAME, readHeaders, type Api, type RouteDeps } from './shared.ts'
import { MASKED_MEMORY } from '../../inspect/explain.ts'
import type { MemoryKeeper } from '../../memory/keeper.ts'
import { isParleyError } from '../../errors.ts'

export const readMemory = createRoute({
  method: 'get',
  path: '/memory/{npc}',
  operationId: 'readMemory',
  summary: "What the NPC remembers of the player (the caller, or the player the game names)",
  description: 'For a player, a memory written under a secret that is locked for them now is shown masked, with the secrets it waits for.',
  security: PLAYER_OR_GAME,
  request: { params: memoryParams, headers: readHeaders },
  responses: { 200: jsonContent(memoryView, 'The record: memories, unlocks and variables a new conversation starts from.'), ...errors({}, ['memory_off', 'unknown_npc', 'record_invalid']) },
})

export const startNewGame = (d?: RouteDeps) =>
  createRoute({
    method: 'post',
    path: '/memory/new-game',
    operationId: 'newGame',
    summary: "A new game: clears the NPC's record of the player (one NPC, or every NPC here)",
    description: 'The player clears only their own record; the game clears the player it names. Conversations that started before are not remembered, even if they end later (a restored save counts from when its conversation started). A player with no record with an NPC writes none; the game marks every NPC it names. Repeating it changes nothing more.',
    security: PLAYER_OR_GAME,
    middleware: d && [limited(d, 'create'), cappedBody(d)],
    request: { headers: readHeaders, body: jsonBody(newGameBody) },
    responses: { 200: jsonContent(newGame, 'The NPCs whose record was cleared.'), ...errors({ changes: true }, ['memory_off', 'unknown_npc', 'rate_limited']) },
  })

export const forgetPlayer = (d?: RouteDeps) =>
  createRoute({
    method: 'delete',
    path: '/memory',
    operationId: 'forgetPlayer',
    summary: 'Forget the player the game names, with every NPC (game only)',
    description: "The right to be forgotten: the player's records are deleted, memories, unlocks and variables alike.",
    security: GAME_ONLY,
    middleware: d && [gameOnly(d, 'DELETE /memory')],
    request: { headers: readHeaders },
    responses: { 200: jsonContent(forgotten, 'How many records were deleted.'), ...errors({ game: true }, ['memory_off', 'origin_not_allowed']) },
  })

export const forgetPlayerWithNpc = (d?: RouteDeps) =>
  createRoute({
    method: 'delete',
    path: '/memory/{npc}',
    operationId: 'forgetPlayerWithNpc',
    summary: "Forget the player the game names, with one NPC (game only)",
    security: GAME_ONLY,
    middleware: d && [gameOnly(d, 'DELETE /memory/{npc}')],
    request: { params: memoryParams, headers: readHeaders },
    responses: { 200: jsonContent(forgotten, 'How many records were deleted (0 or 1).'), ...errors({ game: true }, ['memory_off', 'origin_not_allowed']) },
  })

/** The keeper, or 404 `memory_off` on a server that keeps no memory. */
function keeperOf(d: RouteDeps): MemoryKeeper {
  if (!d.keeper) throw new HttpProblem(404, 'memory_off', 'this server keeps no memory of players (the handler\'s `memory` option is off)')
  return d.keeper
}

/** Whose record: the caller's own identity, or the player the game names. Never anything else a request says. */
function playerOf(caller: Caller): string {
  if (caller.player === undefined) throw new HttpProblem(400, 'invalid_player', 'name the player whose memory this is (x-parley-player, or their player token)')
  return caller.player
}

function npcOf(d: RouteDeps, id: string) {
  // Own entries only: `__proto__` or `constructor` is an unknown NPC like any other.
  const npc = d.npcs.get(id)
  if (!npc) throw new HttpProblem(404, 'unknown_npc', `no NPC "${id}"`)
  return npc
}

/** The NPCs that keep a record of the player (one that cannot be read counts: clearing it is the point). */
async function withRecords(keeper: MemoryKeeper, player: string, npcs: readonly string[]): Promise<string[]> {
  const kept = await Promise.all(
    npcs.map((npc) =>
      keeper.read(player, npc).then(
        (r) => r !== undefined,
        (e: unknown) => {
          if (isParleyError(e) && e.code === 'record_invalid') return true
          throw e
        },
      ),
    ),
  )
  return npcs.filter((_, i) => kept[i])
}

export function memoryRoutes(app: Api, d: RouteDeps): void {
  app.openapi(readMemory, async (c) => {
    const keeper = keeperOf(d)
    const caller = c.env.caller
    const npc = npcOf(d, c.req.valid('param').npc)
    const record = await keeper.read(playerOf(caller), npc.id)
    const memories = record?.memories ?? []
    const declared = new Set(npc.secrets.map((s) => s.id))
    const unlocked = (record?.unlocked ?? []).filter((id) => declared.has(id))
    return c.json(
      {
        npc: npc.id,
        conversations: record?.conversations ?? 0,
        unlocked,
        // Variables are the game's view of the relationship, as in the inspector: players do not see them.
        ...(caller.kind === 'game' && { vars: record?.vars ?? {} }),
        memories: memories.map((m) => {
          // Carried into the player's next conversation (room in the prompt's budget allowing).
          const open = m.secrets.every((id) => unlocked.includes(id))
          // A player never reads a memory past a lock that is closed for them now; the game reads all.
          // One that repeated gated lore is masked for players too: lore gates read items and flags,
          // which belong to a conversation, so outside one no gate can be shown to hold.
          const readable = caller.kind === 'game' || (open && !m.lore?.length)
          return { text: readable ? m.text : MASKED_MEMORY, secrets: m.secrets, carried: open, at: new Date(m.at).toISOString(), by: m.by }
        }),
        pending: record?.pending.length ?? 0,
      },
      200,
    )
  })
  app.openapi(startNewGame(d), async (c) => {
    const keeper = keeperOf(d)
    const player = playerOf(c.env.caller)
    const body = c.req.valid('json')
    const npcs = body.npc === undefined ? [...d.npcs.keys()] : [npcOf(d, body.npc).id]
    // A player clears only the records it has: a caller with none (any new browser) writes nothing,
    // so new games cost the store nothing. The game's new game marks every NPC it names, so even a
    // conversation still open with an NPC that has no record yet is not remembered when it ends.
    const clear = c.env.caller.kind === 'game' ? npcs : await withRecords(keeper, player, npcs)
    if (clear.length) await keeper.newGame(player, clear)
    return c.json({ cleared: npcs }, 200)
  })
  app.openapi(forgetPlayer(d), async (c) => c.json({ deleted: await keeperOf(d).forget(playerOf(c.env.caller)) }, 200))
  app.openapi(forgetPlayerWithNpc(d), async (c) => c.json({ deleted: await keeperOf(d).forget(playerOf(c.env.caller), c.req.valid('param').npc) }, 200))
}
