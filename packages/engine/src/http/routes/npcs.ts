/** GET /npcs: who a player can talk to, and what each can be given. */
import { createRoute } from '@hono/zod-openapi'
import { npcList } from '../schemas.ts'
import { errors, jsonContent, PLAYER_OR_GAME, type Api, type RouteDeps } from './shared.ts'

export const listNpcs = createRoute({
  method: 'get',
  path: '/npcs',
  operationId: 'listNpcs',
  summary: 'The NPCs this server hosts',
  security: PLAYER_OR_GAME,
  responses: { 200: jsonContent(npcList, 'Every NPC with its items.'), ...errors({}, []) },
})

export function npcRoutes(app: Api, d: RouteDeps): void {
  app.openapi(listNpcs, (c) =>
    c.json({
      npcs: [...d.npcs.values()].map((n) => ({
        id: n.id,
        name: n.name,
        greeting: n.greeting ?? null,
        items: Object.entries(n.items).map(([id, i]) => ({ id, name: i.name, description: i.description ?? null })),
        provider: d.providerFor(n).name,
      })),
    }, 200),
  )
}
