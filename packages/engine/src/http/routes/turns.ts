/**
 * What changes a conversation: the player's lines (JSON or a server-sent event stream), and the
 * game's gifts, flags and endings. Each is one at a time per conversation and idempotent by key.
 */
import { createRoute, z } from '@hono/zod-openapi'
import type { Caller } from '../caller.ts'
import type { Work } from '../service.ts'
import { changed, conversationParams, endBody, ended, flagBody, itemBody, messageBody, turn, varBody } from '../schemas.ts'
import { cappedBody, errors, GAME_ONLY, gameOnly, idempotencyHeaders, jsonBody, limited, PLAYER_OR_GAME, served, type Api, type RouteDeps } from './shared.ts'

const turnCodes = ['invalid_idempotency_key', 'conflict', 'conversation_ended', 'aborted'] as const

export const sendMessage = (d?: RouteDeps) =>
  createRoute({
    method: 'post',
    path: '/conversations/{id}/messages',
    operationId: 'sendMessage',
    summary: "The player's line, answered as JSON or streamed",
    description:
      'With `Accept: text/event-stream` the reply streams as `delta` events and ends with one `done` (the same object the JSON answer has) or one `error`. A retry with the same Idempotency-Key replays the stored answer (as one delta and its done) instead of running a second turn.',
    security: PLAYER_OR_GAME,
    middleware: d && [limited(d, 'turn'), cappedBody(d)],
    request: { params: conversationParams, headers: idempotencyHeaders, body: jsonBody(messageBody) },
    responses: {
      200: {
        description: 'The finished turn; or, streamed, its events.',
        content: {
          'application/json': { schema: turn },
          'text/event-stream': {
            schema: z.string().openapi({
              description:
                'Server-sent events, each `event: <name>` then `data: <JSON>`: any number of `delta` (DeltaEvent), then one `done` (DoneEvent) or one `error` (ErrorEvent). StreamEvent is the union, as a client would parse it.',
              'x-parley-events': { delta: { $ref: '#/components/schemas/DeltaEvent' }, done: { $ref: '#/components/schemas/DoneEvent' }, error: { $ref: '#/components/schemas/ErrorEvent' }, any: { $ref: '#/components/schemas/StreamEvent' } },
            } as never),
          },
        },
      },
      ...errors({ changes: true, conversation: true }, ['rate_limited', 'line_too_long', ...turnCodes]),
    },
  })

const gameAct = <P extends string, B extends z.ZodType, R extends z.ZodType>(path: P, operationId: string, summary: string, body: B, response: R, codes: Parameters<typeof errors>[1], d?: RouteDeps) =>
  createRoute({
    method: 'post',
    path,
    operationId,
    summary,
    security: GAME_ONLY,
    middleware: d && [gameOnly(d, `POST …/${path.split('/').pop()}`), cappedBody(d)],
    request: { params: conversationParams, headers: idempotencyHeaders, body: jsonBody(body) },
    responses: { 200: { description: 'Done.', content: { 'application/json': { schema: response } } }, ...errors({ changes: true, conversation: true, game: true }, [...turnCodes, ...codes]) },
  })

export const giveItem = (d?: RouteDeps) => gameAct('/conversations/{id}/items', 'giveItem', 'Hand the NPC an item for the player (game only)', itemBody, changed, ['unknown_item', 'not_enough_items'], d)
export const setFlag = (d?: RouteDeps) => gameAct('/conversations/{id}/flags', 'setFlag', 'Set or clear a flag (game only)', flagBody, changed, ['unknown_flag'], d)
export const setVar = (d?: RouteDeps) => gameAct('/conversations/{id}/vars', 'setVar', 'Set a variable the game owns (game only)', varBody, changed, ['unknown_var', 'invalid_var'], d)
export const endConversation = (d?: RouteDeps) => gameAct('/conversations/{id}/end', 'endConversation', "End the conversation on the game's behalf (game only)", endBody, ended, [], d)

export function turnRoutes(app: Api, d: RouteDeps): void {
  const act = (id: string, c: { env: { caller: Caller }; req: { header(name: string): string | undefined } }, work: Work, key: string | undefined) =>
    served(d.service.act(id, c.env.caller, work, key, (c.req.header('accept') ?? '').includes('text/event-stream')))
  app.openapi(sendMessage(d), (c) => act(c.req.valid('param').id, c, { action: 'messages', ...c.req.valid('json') }, c.req.valid('header')['idempotency-key']))
  app.openapi(giveItem(d), (c) => act(c.req.valid('param').id, c, { action: 'items', ...c.req.valid('json') }, c.req.valid('header')['idempotency-key']))
  app.openapi(setFlag(d), (c) => act(c.req.valid('param').id, c, { action: 'flags', ...c.req.valid('json') }, c.req.valid('header')['idempotency-key']))
  app.openapi(setVar(d), (c) => act(c.req.valid('param').id, c, { action: 'vars', ...c.req.valid('json') }, c.req.valid('header')['idempotency-key']))
  app.openapi(endConversation(d), (c) => act(c.req.valid('param').id, c, { action: 'end' }, c.req.valid('header')['idempotency-key']))
}
