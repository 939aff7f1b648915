/**
 * The demo's small Node server: the built page from dist/, the engine's web-standard handler under
 * /api, and the game's own routes under /demo. The server is the game: it holds the game key (its
 * own, made per process unless configured), owns the player's inventory (inventory.ts) and gives
 * items through the engine's game route. The GLM key is read here and never leaves the server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { extname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ContentError, createGlmClient, glmProvider, scriptedProvider, type ContentIssue, type Provider } from '@parley/engine'
import { formatIssue, type ServerKind } from '@parley/engine/unstable'
import { checkHost, checkStateChange, createDialogueHandler, HttpProblem, KeyRing } from '@parley/engine/http'
import { DiskEmbeddingCache, loadNpcs } from '@parley/engine/node'
import { MemoryConversationStore } from '@parley/engine'
import { RedisConversationStore } from '@parley/engine/redis'
import { answerGameRoute } from './inventory.ts'
import { PurseBook } from './purse.ts'
import { sendResponse, toWebRequest } from './node-bridge.ts'

const here = fileURLToPath(new URL('.', import.meta.url))
const root = resolve(here, '../..')
const env = process.env

export interface DemoServerOptions {
  port?: number
  /**
   * The content root: the folder holding `npcs/` and `lore/` (default: the repository's
   * `content/`, or `PARLEY_CONTENT_DIR`). Lore files must stay inside it.
   */
  contentDir?: string
  /** NPC files from another folder; lore is then contained by that folder's content root. */
  npcDir?: string
  /** The built page. Default: dist/ beside this file. */
  distDir?: string
  env?: Record<string, string | undefined>
  /** Told about NPC files left out for their problems (default: printed to stderr). */
  onContentIssues?: (issues: readonly ContentIssue[], broken: readonly string[]) => void
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2' }

const list = (text: string | undefined) => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)
const number = (text: string | undefined, fallback: number) => (text === undefined || text === '' ? fallback : Number(text))

export async function startDemoServer(options: DemoServerOptions = {}) {
  const e = options.env ?? env
  const dist = resolve(options.distDir ?? e.PARLEY_DIST_DIR ?? join(here, 'dist'))
  const contentDir = resolve(options.contentDir ?? e.PARLEY_CONTENT_DIR ?? join(root, 'content'))
  const npcDir = options.npcDir ?? e.PARLEY_NPC_DIR
  // One broken NPC file never stops the demo: it serves every valid NPC and says which were left out.
  const loaded = npcDir ? await loadNpcs([npcDir]) : await loadNpcs([join(contentDir, 'npcs')], { contentRoot: contentDir })
  // With not one valid NPC there is nothing to serve: refuse to start, saying where each problem is.
  if (loaded.npcs.length === 0 && loaded.issues.length) throw new ContentError(loaded.issues)
  if (loaded.issues.length) (options.onContentIssues ?? reportContentIssues)(loaded.issues, loaded.broken)
  const { broken } = loaded
  const npcList = loaded.npcs
  const npcs = new Map(npcList.map((n) => [n.id, n]))
  const client = e.GLM_API_KEY ? createGlmClient({ apiKey: e.GLM_API_KEY, baseUrl: e.GLM_BASE_URL }) : undefined
  // GLM_SERVER names the server behind GLM_BASE_URL (glm, ollama, vllm, openai) when its URL does not say.
  const glmServer = ['glm', 'ollama', 'vllm', 'openai'].includes(e.GLM_SERVER ?? '') ? (e.GLM_SERVER as ServerKind) : undefined
  const provider: Provider = client ? glmProvider({ client, model: e.GLM_MODEL, server: glmServer }) : scriptedProvider({ delayMs: Number(e.PARLEY_TYPING_MS ?? 25) })
  const idleMs = number(e.PARLEY_IDLE_MS, 30 * 60_000)
  const bodyTimeoutMs = number(e.PARLEY_BODY_TIMEOUT_MS, 10_000)
  const maxBodyBytes = 16 * 1024
  // Loopback by default: a demo should not be reachable from the network unless asked (HOST=0.0.0.0).
  const host = e.HOST ?? '127.0.0.1'
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost'
  const allowedHosts = loopback ? ('loopback' as const) : list(e.PARLEY_ALLOWED_HOSTS).length ? list(e.PARLEY_ALLOWED_HOSTS) : ('any' as const)
  const trustProxy = number(e.PARLEY_TRUST_PROXY, 0)
  const allowedOrigins = list(e.PARLEY_ALLOWED_ORIGINS)
  // The demo is its own game: without a configured key it makes one that never leaves this process.
  const gameKeys = list(e.PARLEY_GAME_KEY)
  const gameKey = gameKeys[0] ?? randomBytes(32).toString('base64url')
  const ring = KeyRing.parse(e.PARLEY_SIGNING_KEYS)
  // With REDIS_URL, conversations live in Redis: several servers (or a restarted one) serve them.
  // The server makes the store itself either way: the player's purses live in it beside the NPCs' records.
  const store = e.REDIS_URL ? new RedisConversationStore({ url: e.REDIS_URL, ttlMs: idleMs }) : new MemoryConversationStore({ ttlMs: idleMs, sweepEveryMs: number(e.PARLEY_SWEEP_MS, 60_000) })
  const memory = e.PARLEY_MEMORY !== 'off'
  // With memory the informant's trust carries to the next conversation, so the purse it was bought with does too.
  const purses = memory ? new PurseBook(store, ring) : undefined
  const handler = createDialogueHandler({
    npcs: npcList,
    provider,
    store,
    // With a key, lore that asks for embeddings uses GLM embedding-3 (cached on disk); without, BM25.
    ...(client && { lore: { embeddings: { client, cache: new DiskEmbeddingCache(e.PARLEY_CACHE_DIR ?? join(root, '.parley-cache/embeddings')) } } }),
    idleMs,
    bodyTimeoutMs,
    maxBodyBytes,
    ratePerMinute: number(e.PARLEY_RATE_PER_MINUTE, 60),
    createPerMinute: number(e.PARLEY_CREATE_PER_MINUTE, 10),
    addressCreatePerMinute: number(e.PARLEY_ADDRESS_CREATE_PER_MINUTE, 30),
    maxLiveConversations: number(e.PARLEY_MAX_LIVE, 10_000),
    sweepEveryMs: number(e.PARLEY_SWEEP_MS, 60_000),
    gameKeys: gameKeys.length ? gameKeys : [gameKey],
    signingKeys: ring,
    // The demo page is the game's own page: it shows the behind-the-scenes panel.
    inspectorForPlayers: true,
    // NPCs remember the player (by the signed client id cookie) across conversations; PARLEY_MEMORY=off turns it off.
    memory,
    allowedHosts,
    trustProxy,
    ...(allowedOrigins.length && { allowedOrigins }),
  })

  const server = createServer({ connectionsCheckingInterval: 1000, requestTimeout: bodyTimeoutMs + 10_000, headersTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    const work = path.startsWith('/api/') ? api(req, res) : path.startsWith('/demo/') ? game(req, res, path) : file(req, path, res)
    work.catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('internal error')
    })
  })
  server.maxConnections = number(e.PARLEY_MAX_CONNECTIONS, 1000)
  server.keepAliveTimeout = 5000

  const toRequest = toWebRequest
  const send = sendResponse

  async function api(req: IncomingMessage, res: ServerResponse) {
    const request = toRequest(req, res)
    const response = await handler(request, { address: req.socket.remoteAddress })
    // The player's new game empties the NPCs' records: their purses start full again with them.
    if (purses && response.status === 200 && request.method === 'POST' && new URL(request.url).pathname === '/api/memory/new-game') {
      const player = await purses.playerOf(request)
      const cleared = ((await response.clone().json()) as { cleared?: unknown }).cleared
      if (player && Array.isArray(cleared)) await purses.clear(player, cleared.filter((n): n is string => typeof n === 'string'))
    }
    await send(response, res)
  }

  /** The game's routes for its own page: what the player holds, and handing an item over. */
  async function game(req: IncomingMessage, res: ServerResponse, path: string) {
    const request = toRequest(req, res)
    const refused = checkHost(request, allowedHosts) ?? checkStateChange(request, { allowedOrigins: allowedOrigins.length ? allowedOrigins : undefined, trustProxy })
    if (refused) return send(new Response(JSON.stringify({ error: { code: refused.code, message: refused.message } }), { status: refused.status, headers: { 'content-type': 'application/json; charset=utf-8' } }), res)
    return send(await answerGameRoute(request, path, { handler, npcs, gameKey, purses, limits: { maxBytes: maxBodyBytes, timeoutMs: bodyTimeoutMs } }), res)
  }

  async function file(req: IncomingMessage, path: string, res: ServerResponse) {
    if (checkHost(new Request(`http://${req.headers.host ?? 'localhost'}/`), allowedHosts)) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('this server does not answer for that host')
    let decoded: string
    try {
      decoded = decodeURIComponent(path)
    } catch {
      return void res.writeHead(400, { 'content-type': 'text/plain' }).end('bad path')
    }
    const target = normalize(join(dist, path === '/' ? 'index.html' : decoded))
    // With the separator: "dist-private/" beside dist/ is outside it, though it starts with the same letters.
    if (!target.startsWith(dist + sep)) return void res.writeHead(403).end()
    try {
      if (!(await stat(target)).isFile()) throw new Error('not a file')
      const body = await readFile(target)
      // Never framed: another site cannot lay its page over the give buttons (clickjacking).
      res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'", 'referrer-policy': 'no-referrer' })
      res.end(body)
    } catch {
      try {
        await readFile(join(dist, 'index.html'))
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      } catch {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('the page is not built: run `pnpm --filter @parley/demo-web build` (pnpm start does it for you)')
      }
    }
  }

  const port = options.port ?? Number(e.PORT ?? 8787)
  await new Promise<void>((r) => server.listen(port, host, r))
  const address = server.address() as { port: number }
  const close = async () => {
    await new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())))
    await handler.close()
    await store.close()
  }
  return { server, port: address.port, provider: provider.name, store: e.REDIS_URL ? 'redis' : 'memory', npcs: npcList.map((n) => n.id), broken, ephemeralSigningKey: ring.ephemeral, close }
}
function reportContentIssues(issues: readonly ContentIssue[], broken: readonly string[]) {
  const shown = (p: string) => (isAbsolute(p) && !relative(root, p).startsWith('..') ? relative(root, p) : p)
  process.stderr.write(`Left out ${broken.length} NPC file${broken.length === 1 ? '' : 's'} with problems (fix them, or run \`pnpm parley lint\`):\n`)
  for (const issue of issues) process.stderr.write(`  ${formatIssue({ ...issue, path: shown(issue.path) })}\n`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { port, provider, store, ephemeralSigningKey, close } = await startDemoServer().catch((error: unknown) => {
    // Broken content is the designer's to fix: say where, as `parley lint` does, not a stack trace.
    if (!(error instanceof ContentError)) throw error
    process.stderr.write(`no NPC file could be loaded (run \`pnpm parley lint\`):\n${error.issues.map(formatIssue).join('\n')}\n`)
    process.exit(1)
  })
  // Ctrl-C is how a demo is stopped: close and exit 0, so pnpm reports no failure. pnpm passes
  // the terminal's SIGINT on as well, so the handler stays installed for the second one.
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    process.stdout.write('\nParley demo stopped.\n')
    void close().finally(() => process.exit(0))
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  process.stdout.write(
    `Parley demo on http://${env.HOST ?? '127.0.0.1'}:${port}  (provider: ${provider}${provider === 'scripted' ? '; set GLM_API_KEY to talk to GLM' : ''}; conversations: ${store}${store === 'memory' ? '; set REDIS_URL to share them between servers' : ''})\n`,
  )
  if (ephemeralSigningKey) process.stdout.write('Signing key: none configured, so one was made for this process; saves and player ids end with it. Set PARLEY_SIGNING_KEYS=id:secret to keep them across restarts and servers.\n')
}
