/** Starting (or restoring), reading and leaving a conversation. */
import { createRoute } from '@hono/zod-openapi'
import { conversationParams, conversationView, createBody, created } from '../schemas.ts'
import { cappedBody, errors, idempotencyHeaders, jsonBody, jsonContent, limited, PLAYER_OR_GAME, readHeaders, roomForMore, served, type Api, type RouteDeps } from './shared.ts'

export const createConversation = (d?: RouteDeps) =>
  createRoute({
    method: 'post',
    path: '/conversations',
    operationId: 'createConversation',
    summary: 'Start a conversation, or restore one from a save',
    description:
      'A player may restore only a save this server signed (and, by default, only its own); the game may also restore an unsigned snapshot. With an Idempotency-Key, a repeat answers with the conversation the first call made.',
    security: PLAYER_OR_GAME,
    middleware: d && [limited(d, 'create'), roomForMore(d), cappedBody(d)],
    request: { headers: idempotencyHeaders, body: jsonBody(createBody) },
    responses: {
      201: jsonContent(created, "The new conversation, as the caller may see it, and the NPC's greeting."),
      ...errors({ changes: true }, ['unknown_npc', 'rate_limited', 'server_full', 'conflict', 'invalid_idempotency_key', 'idempotency_key_reused', 'save_invalid', 'save_unsigned', 'save_version_unknown', 'save_signature_invalid', 'save_wrong_npc', 'save_other_player']),
    },
  })

export const readConversation = createRoute({
  method: 'get',
  path: '/conversations/{id}',
  operationId: 'readConversation',
  summary: "The conversation as the caller may see it (the player's view, or the inspector's for the game)",
  security: PLAYER_OR_GAME,
  request: { params: conversationParams, headers: readHeaders },
  responses: { 200: jsonContent(conversationView, 'The conversation with its history.'), ...errors({ conversation: true }, []) },
})

export const deleteConversation = createRoute({
  method: 'delete',
  path: '/conversations/{id}',
  operationId: 'deleteConversation',
  summary: 'Forget a conversation',
  description: "With memory on, a player's delete is taken into the NPC's record as an ending would be (unlocks, variables and what was said), so deleting is no way around what the game set in it. The game's delete discards it unremembered.",
  security: PLAYER_OR_GAME,
  request: { params: conversationParams, headers: readHeaders },
  responses: { 204: { description: 'Gone.' }, ...errors({ conversation: true }, ['origin_not_allowed']) },
})

export function conversationRoutes(app: Api, d: RouteDeps): void {
  app.openapi(createConversation(d), (c) => served(d.service.create(c.req.valid('json'), c.env.caller, c.req.valid('header')['idempotency-key'])))
  app.openapi(readConversation, async (c) => c.json(await d.service.read(c.req.valid('param').id, c.env.caller), 200))
  app.openapi(deleteConversation, async (c) => {
    await d.service.remove(c.req.valid('param').id, c.env.caller)
    return c.body(null, 204)
  })
}
