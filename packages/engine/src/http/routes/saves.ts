/** Saves: signed for players (restorable only untouched), unsigned snapshots for the game's own servers. */
import { createRoute } from '@hono/zod-openapi'
import { conversationParams, signedSave, snapshot } from '../schemas.ts'
import { errors, GAME_ONLY, gameOnly, jsonContent, PLAYER_OR_GAME, readHeaders, type Api, type RouteDeps } from './shared.ts'

export const takeSave = createRoute({
  method: 'get',
  path: '/conversations/{id}/save',
  operationId: 'takeSave',
  summary: 'A signed save of the conversation',
  security: PLAYER_OR_GAME,
  request: { params: conversationParams, headers: readHeaders },
  responses: { 200: jsonContent(signedSave, 'Restore it with `POST /conversations {npc, save}`.'), ...errors({ conversation: true }, []) },
})

export const takeSnapshot = (d?: RouteDeps) =>
  createRoute({
    method: 'get',
    path: '/conversations/{id}/snapshot',
    operationId: 'takeSnapshot',
    summary: 'An unsigned snapshot (game only)',
    security: GAME_ONLY,
    middleware: d && [gameOnly(d, 'GET …/snapshot (an unsigned save)')],
    request: { params: conversationParams, headers: readHeaders },
    responses: { 200: jsonContent(snapshot, 'For the game to keep on its own servers.'), ...errors({ conversation: true, game: true }, []) },
  })

export function saveRoutes(app: Api, d: RouteDeps): void {
  app.openapi(takeSave, async (c) => c.json(await d.service.signedSave(c.req.valid('param').id, c.env.caller), 200))
  app.openapi(takeSnapshot(d), async (c) => c.json((await d.service.load(c.req.valid('param').id, c.env.caller)).convo.snapshot() as unknown as Record<string, unknown>, 200))
}
