/**
 * The routes as one hono app: each route file registers its routes with their schemas, and this
 * file adds what all share: validation failures as the handler's 400s, every refusal as a
 * problem body with a stable code, 404 and 405 for paths and methods no route takes, and the
 * OpenAPI document the same schemas describe.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { HttpProblem, json, problemBody, toProblem } from './problem.ts'
import { invalidBody } from './read-body.ts'
import { conversationRoutes } from './routes/conversations.ts'
import { inspectRoutes } from './routes/inspect.ts'
import { memoryRoutes } from './routes/memory.ts'
import { npcRoutes } from './routes/npcs.ts'
import { playerTokenRoutes } from './routes/player-tokens.ts'
import { saveRoutes } from './routes/saves.ts'
import type { AppEnv, RouteDeps } from './routes/shared.ts'
import { turnRoutes } from './routes/turns.ts'
import { deltaEvent, doneEvent, errorEvent, streamEvents } from './schemas.ts'

export const API_VERSION = '1.0.0'

export function problemResponse(error: unknown): Response {
  const problem = error instanceof HTTPException ? fromHonoException(error) : toProblem(error)
  return json(problemBody(problem), problem.status, problem.headers)
}

function fromHonoException(e: HTTPException): HttpProblem {
  if (e.status === 415) return new HttpProblem(415, 'unsupported_media_type', 'send the body as JSON, with content-type: application/json')
  if (e.status === 400) return new HttpProblem(400, 'invalid_json', 'the request body must be JSON')
  return new HttpProblem(e.status, e.status === 404 ? 'not_found' : 'internal', e.message || 'refused')
}

/**
 * The API app mounted at `basePath`. Without `deps` it only describes itself (for the OpenAPI
 * document): its handlers would have nothing to run on.
 */
export function buildApp(basePath: string, deps: RouteDeps | undefined): OpenAPIHono<AppEnv> {
  const api = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return
      if (result.target === 'header') throw new HttpProblem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 128 visible ASCII characters')
      throw invalidBody(result.error)
    },
  })
  api.openAPIRegistry.registerComponent('securitySchemes', 'gameKey', { type: 'http', scheme: 'bearer', description: "The game's own server: `Authorization: Bearer <game key>`. Without a configured key the game routes are off." })
  api.openAPIRegistry.registerComponent('securitySchemes', 'playerCookie', { type: 'apiKey', in: 'cookie', name: 'parley_client', description: 'A browser: the server sets this signed cookie on its first answer.' })
  api.openAPIRegistry.registerComponent('securitySchemes', 'playerToken', { type: 'apiKey', in: 'header', name: 'x-parley-client', description: 'A game client (Unity, Godot, …): a token the game minted with `POST /player-tokens`.' })
  // The stream's events are named in the messages route's text/event-stream description.
  for (const [name, schema] of [['DeltaEvent', deltaEvent], ['DoneEvent', doneEvent], ['ErrorEvent', errorEvent], ['StreamEvent', streamEvents]] as const) api.openAPIRegistry.register(name, schema)
  const d = deps ?? (new Proxy({}, { get: () => { throw new Error('this app only describes the API') } }) as RouteDeps)
  npcRoutes(api, d)
  playerTokenRoutes(api, d)
  conversationRoutes(api, d)
  turnRoutes(api, d)
  saveRoutes(api, d)
  inspectRoutes(api, d)
  memoryRoutes(api, d)

  const root = new OpenAPIHono<AppEnv>()
  root.route(basePath, api)
  const routes = api.openAPIRegistry.definitions.flatMap((def) => (def.type === 'route' ? [{ method: def.route.method.toUpperCase(), pattern: pathPattern(basePath + def.route.path) }] : []))
  const document = () => openApiDocumentOf(root)
  root.get(`${basePath}/openapi.json`, () => json(document()))
  routes.push({ method: 'GET', pattern: pathPattern(`${basePath}/openapi.json`) })
  const onError = (error: unknown) => problemResponse(error)
  root.onError(onError)
  root.notFound((c: Context) => {
    const path = c.req.path
    if (routes.some((r) => r.pattern.test(path))) return problemResponse(new HttpProblem(405, 'method_not_allowed', `${c.req.method} is not allowed here`))
    return problemResponse(new HttpProblem(404, 'not_found', `no route ${c.req.method} ${path}`))
  })
  return root
}

function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`)
}

/** The document as plain JSON (its type lives in openapi3-ts, which this package does not export). */
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths?: Record<string, Record<string, unknown>> }

export function openApiDocumentOf(app: OpenAPIHono<AppEnv>): OpenApiDocument {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Parley dialogue API',
      version: API_VERSION,
      description:
        "NPC conversations over HTTP. Two callers: the player (a browser with the `parley_client` cookie, or a game client with a player token in `x-parley-client`) and the game's own server (`Authorization: Bearer <game key>`). Every refusal is a `Problem` with a stable `error.code`.",
    },
  }) as unknown as OpenApiDocument
}

/** The OpenAPI 3.1 document for a handler mounted at `basePath` (the committed file is for `/api`). */
export function openApiDocument(basePath = '/api'): OpenApiDocument {
  return openApiDocumentOf(buildApp(basePath, undefined))
}
