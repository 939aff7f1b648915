/** POST /player-tokens: the game mints a token a non-browser game client sends as `x-parley-client`. */
import { createRoute } from '@hono/zod-openapi'
import { ACCOUNT_ID, gamePlayerIdentity, issueClientToken } from '../client-id.ts'
import { HttpProblem } from '../problem.ts'
import { playerToken, playerTokenBody } from '../schemas.ts'
import { cappedBody, errors, GAME_ONLY, gameOnly, jsonBody, jsonContent, type Api, type RouteDeps } from './shared.ts'

export const issuePlayerToken = (d?: RouteDeps) =>
  createRoute({
    method: 'post',
    path: '/player-tokens',
    operationId: 'issuePlayerToken',
    summary: 'Mint a player token (game only)',
    description: 'Idempotent by nature: each call mints a fresh token for the same player, and any of them works.',
    security: GAME_ONLY,
    middleware: d && [gameOnly(d, 'POST /player-tokens'), cappedBody(d)],
    request: { body: jsonBody(playerTokenBody) },
    responses: { 201: jsonContent(playerToken, 'A token for the player; send it as `x-parley-client`.'), ...errors({ changes: true, game: true }, []) },
  })

export function playerTokenRoutes(app: Api, d: RouteDeps): void {
  app.openapi(issuePlayerToken(d), async (c) => {
    const body = c.req.valid('json')
    if (!ACCOUNT_ID.test(body.player)) throw new HttpProblem(400, 'invalid_player', 'player is 1 to 128 of A-Z a-z 0-9 _ . : @ + -')
    const expiresAt = Math.floor(d.now() / 1000) + (body.ttlSeconds ?? 86_400)
    return c.json({ token: await issueClientToken(d.ring, gamePlayerIdentity(body.player), expiresAt), player: body.player, expiresAt: new Date(expiresAt * 1000).toISOString() }, 201)
  })
}
