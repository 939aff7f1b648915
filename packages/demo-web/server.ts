/**
 * The demo's small Node server: the built page from dist/, and the engine's web-standard handler
 * under /api. The GLM key is read here and never leaves the server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createGlmClient, glmProvider, scriptedProvider, type Provider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { DiskEmbeddingCache, loadNpcDir } from '@parley/engine/node'
import { RedisConversationStore } from '@parley/engine/redis'

const here = fileURLToPath(new URL('.', import.meta.url))
const root = resolve(here, '../..')
const dist = join(here, 'dist')
const env = process.env

export interface DemoServerOptions {
  port?: number
  npcDir?: string
  env?: Record<string, string | undefined>
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2' }

export async function startDemoServer(options: DemoServerOptions = {}) {
  const e = options.env ?? env
  const npcs = await loadNpcDir(options.npcDir ?? join(root, 'content/npcs'))
  const client = e.GLM_API_KEY ? createGlmClient({ apiKey: e.GLM_API_KEY, baseUrl: e.GLM_BASE_URL }) : undefined
  const provider: Provider = client ? glmProvider({ client, model: e.GLM_MODEL }) : scriptedProvider({ delayMs: Number(e.PARLEY_TYPING_MS ?? 25) })
  const idleMs = Number(e.PARLEY_IDLE_MS ?? 30 * 60_000)
  // With REDIS_URL, conversations live in Redis: several servers (or a restarted one) serve them.
  const store = e.REDIS_URL ? new RedisConversationStore({ url: e.REDIS_URL, ttlMs: idleMs }) : undefined
  const handler = createDialogueHandler({
    npcs,
    provider,
    ...(store && { store }),
    // With a key, lore that asks for embeddings uses GLM embedding-3 (cached on disk); without, BM25.
    ...(client && { lore: { embeddings: { client, cache: new DiskEmbeddingCache(join(root, '.parley-cache/embeddings')) } } }),
    idleMs,
    ratePerMinute: Number(e.PARLEY_RATE_PER_MINUTE ?? 60),
  })

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    const work = path.startsWith('/api/') ? api(req, res) : file(path, res)
    work.catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('internal error')
    })
  })

  async function api(req: IncomingMessage, res: ServerResponse) {
    const controller = new AbortController()
    res.on('close', () => controller.abort())
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: hasBody ? (req as unknown as ReadableStream) : undefined,
      signal: controller.signal,
      // @ts-expect-error Node's fetch needs this to stream a request body
      duplex: 'half',
    })
    const response = await handler(request)
    const headers: Record<string, string | string[]> = Object.fromEntries(response.headers)
    const cookies = response.headers.getSetCookie()
    if (cookies.length) headers['set-cookie'] = cookies
    res.writeHead(response.status, headers)
    if (!response.body) return void res.end()
    const reader = response.body.getReader()
    res.on('close', () => void reader.cancel().catch(() => {}))
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      res.write(value)
    }
    res.end()
  }

  async function file(path: string, res: ServerResponse) {
    const target = normalize(join(dist, path === '/' ? 'index.html' : decodeURIComponent(path)))
    if (!target.startsWith(dist)) return void res.writeHead(403).end()
    try {
      const body = await readFile(target)
      res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-cache' })
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
  // Loopback by default: a demo should not be reachable from the network unless asked (HOST=0.0.0.0).
  const host = e.HOST ?? '127.0.0.1'
  await new Promise<void>((r) => server.listen(port, host, r))
  const address = server.address() as { port: number }
  const close = async () => {
    await new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())))
    await store?.close()
  }
  return { server, port: address.port, provider: provider.name, store: store ? 'redis' : 'memory', close }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { port, provider, store } = await startDemoServer()
  process.stdout.write(
    `Parley demo on http://${env.HOST ?? '127.0.0.1'}:${port}  (provider: ${provider}${provider === 'scripted' ? '; set GLM_API_KEY to talk to GLM' : ''}; conversations: ${store}${store === 'memory' ? '; set REDIS_URL to share them between servers' : ''})\n`,
  )
}
