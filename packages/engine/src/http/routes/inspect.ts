/** GET …/inspect: the designer's view of a conversation, passphrases masked (game only). */
import { createRoute } from '@hono/zod-openapi'
import { conversationParams, inspectorView } from '../schemas.ts'
import { errors, GAME_ONLY, gameOnly, jsonContent, readHeaders, type Api, type RouteDeps } from './shared.ts'

export const inspectConversation = (d?: RouteDeps) =>
  createRoute({
    method: 'get',
    path: '/conversations/{id}/inspect',
    operationId: 'inspectConversation',
    summary: "The inspector's view (game only)",
    security: GAME_ONLY,
    middleware: d && [gameOnly(d, 'GET …/inspect')],
    request: { params: conversationParams, headers: readHeaders },
    responses: { 200: jsonContent(inspectorView, 'Flags, every secret and its condition (passphrases masked), the last request and its lore, the full history.'), ...errors({ conversation: true, game: true }, []) },
  })

export function inspectRoutes(app: Api, d: RouteDeps): void {
  app.openapi(inspectConversation(d), async (c) => c.json(d.service.inspect(await d.service.load(c.req.valid('param').id, c.env.caller)), 200))
}
