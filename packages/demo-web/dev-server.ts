/**
 * `parley dev`: the demo page for content designers. Every NPC in content/npcs (pick one with
 * `?npc=id`), content/ watched: a saved file is linted and reloaded, its problems are pushed to the
 * page at file:line:col, and open conversations continue where their save still fits the edited
 * file. A broken file never stops the others; while broken, its last good version keeps serving.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { glmProvider, MemoryConversationStore, scriptedProvider, type ContentIssue, type Npc, type Provider } from '@parley/engine'
import { createDialogueHandler, KeyRing } from '@parley/engine/http'
import { formatIssue } from '@parley/engine/unstable'
import { answerGameRoute } from './inventory.ts'
import { sendResponse, toWebRequest } from './node-bridge.ts'
import { loadNpcs } from '@parley/engine/node'

const here = fileURLToPath(new URL('.', import.meta.url))
const repo = resolve(here, '../..')

export interface DevServerOptions {
  port?: number
  host?: string
  /** The content folder to watch; NPCs are read from its `npcs/` folder. Default: the repo's content/. */
  contentDir?: string
  /** Where paths in problems are shown relative to. Default: the repo. */
  cwd?: string
  env?: Record<string, string | undefined>
  /** The built page. Default: packages/demo-web/dist. */
  dist?: string
  /** Calm period after the last change before reloading (editors write files in several steps). */
  debounceMs?: number
}

/** What the page is told after each reload. */
export interface DevStatus {
  version: number
  npcs: string[]
  /** Every problem, as `file:line:col: message (hint)`. */
  problems: string[]
  /** NPCs whose file is broken right now, still served from their last good version. */
  stale: string[]
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' }

export async function startDevServer(options: DevServerOptions = {}) {
  const env = options.env ?? process.env
  const contentDir = resolve(options.contentDir ?? join(repo, 'content'))
  const npcDir = join(contentDir, 'npcs')
  const cwd = options.cwd ?? repo
  const dist = resolve(options.dist ?? join(here, 'dist'))
  const provider: Provider = env.GLM_API_KEY
    ? glmProvider({ apiKey: env.GLM_API_KEY, baseUrl: env.GLM_BASE_URL, model: env.GLM_MODEL })
    : scriptedProvider({ delayMs: Number(env.PARLEY_TYPING_MS ?? 25) })
  // One store for every reload: a new handler restores each conversation from its save with the
  // NPC file as it is now, so a conversation survives an edit wherever its save still fits.
  const store = new MemoryConversationStore({ ttlMs: 6 * 60 * 60_000 })
  const lastGood = new Map<string, Npc>()
  let status: DevStatus = { version: 0, npcs: [], problems: [], stale: [] }
  // The page's identity and its saves must outlive a reload: one signing key and one game key for the whole session.
  const ring = KeyRing.ephemeral()
  const gameKey = randomBytes(32).toString('base64url')
  let servingById = new Map<string, Npc>()
  let handler: (request: Request) => Promise<Response> = async () => new Response('loading', { status: 503 })
  const listeners = new Set<ServerResponse>()

  const shown = (issue: ContentIssue) => {
    const path = relative(cwd, issue.path)
    return formatIssue({ ...issue, path: path.startsWith('..') ? issue.path : path, message: issue.message.replaceAll(`${cwd.replace(/\/$/, '')}/`, '') })
  }

  async function reload(): Promise<void> {
    const { npcs, issues } = await loadNpcs([npcDir]).catch((error: unknown) => ({ npcs: [] as Npc[], issues: [{ path: npcDir, line: 1, col: 1, code: 'unreadable' as const, message: String((error as Error).message) }] }))
    const broken = new Set(issues.map((i) => i.path))
    const serving = [...npcs]
    const stale: string[] = []
    for (const npc of npcs) lastGood.set(npc.source, npc)
    for (const [source, npc] of lastGood) {
      if (npcs.some((n) => n.source === source)) continue
      if (broken.has(source) && !serving.some((n) => n.id === npc.id)) {
        serving.push(npc)
        stale.push(npc.id)
      } else lastGood.delete(source)
    }
    // The dev server is the game for its page, as the demo server is: it gives through the game route.
    // The old handler's sweep timer goes with it; the store (and so every conversation) stays.
    const previous = handler as Partial<{ close: () => void }>
    void previous.close?.()
    handler = createDialogueHandler({ npcs: serving, provider, store, ratePerMinute: 10_000, createPerMinute: 10_000, addressCreatePerMinute: 10_000, gameKeys: [gameKey], signingKeys: ring, inspectorForPlayers: true })
    servingById = new Map(serving.map((n) => [n.id, n]))
    status = { version: status.version + 1, npcs: serving.map((n) => n.id).sort(), problems: issues.map(shown), stale }
    const payload = `event: reload\ndata: ${JSON.stringify(status)}\n\n`
    for (const res of listeners) res.write(payload)
  }

  await reload()
  let timer: ReturnType<typeof setTimeout> | undefined
  let reloading = Promise.resolve()
  const watcher: FSWatcher = watch(contentDir, { recursive: true }, () => {
    clearTimeout(timer)
    timer = setTimeout(() => (reloading = reloading.then(reload, reload)), options.debounceMs ?? 120)
  })

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    const work = path.startsWith('/api/') ? api(req, res) : path.startsWith('/demo/') ? game(req, res, path) : path === '/dev/events' ? events(res) : path === '/dev/status' ? json(res, status) : file(path, res)
    work.catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('internal error')
    })
  })

  async function events(res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' })
    res.write(`event: hello\ndata: ${JSON.stringify(status)}\n\n`)
    listeners.add(res)
    res.on('close', () => listeners.delete(res))
  }

  async function json(res: ServerResponse, body: unknown) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' }).end(JSON.stringify(body))
  }

  /** The game's routes for the page (inventory, giving), as the demo server answers them. */
  async function game(req: IncomingMessage, res: ServerResponse, path: string) {
    const response = await answerGameRoute(toWebRequest(req, res), path, { handler, npcs: servingById, gameKey, limits: { maxBytes: 16 * 1024, timeoutMs: 10_000 } })
    await sendResponse(response, res)
  }

  async function api(req: IncomingMessage, res: ServerResponse) {
    await sendResponse(await handler(toWebRequest(req, res)), res)
  }

  async function file(path: string, res: ServerResponse) {
    const target = normalize(join(dist, path === '/' ? 'index.html' : decodeURIComponent(path)))
    // With a separator: `dist-private/` beside `dist/` is outside it.
    if (target !== dist && !target.startsWith(dist + sep)) return void res.writeHead(403).end()
    let body: Buffer
    try {
      body = await readFile(target)
    } catch {
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found (is the page built? `parley dev` builds it)')
    }
    // The page turns on its dev panel (live reload, problems) only when served from here.
    const out = extname(target) === '.html' ? body.toString('utf8').replace('</head>', '<meta name="parley-dev" content="1" />\n</head>') : body
    res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(out)
  }

  const host = options.host ?? env.HOST ?? '127.0.0.1'
  await new Promise<void>((r) => server.listen(options.port ?? Number(env.PORT ?? 8787), host, r))
  const { port } = server.address() as { port: number }
  return {
    url: `http://${host}:${port}`,
    port,
    provider: provider.name,
    status: () => status,
    /** Resolves once the reload after the latest change has finished. */
    settled: () => reloading,
    async close() {
      watcher.close()
      clearTimeout(timer)
      for (const res of listeners) res.end()
      await new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())))
    },
  }
}

/** Builds the page (Vite) into `outDir`, by default the dist/ the servers serve. */
export async function buildPage(outDir = join(here, 'dist')): Promise<void> {
  const { build } = await import('vite')
  // The demo's own config: it resolves the workspace packages (@parley/client) from source.
  await build({ configFile: join(here, 'vite.config.ts'), root: join(here, 'page'), logLevel: 'warn', build: { outDir, emptyOutDir: true, target: 'es2022' } })
}

/** `parley dev [--port N] [--content DIR] [--no-build]`: builds the page, serves it, reloads on save. */
export async function runDev(args: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: Record<string, string | undefined>; cwd: string }): Promise<number> {
  const { parseArgs } = await import('node:util')
  let values
  try {
    ;({ values } = parseArgs({ args, options: { port: { type: 'string' }, content: { type: 'string' }, 'no-build': { type: 'boolean' } } }))
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\nUsage: parley dev [--port N] [--content DIR] [--no-build]\n`)
    return 2
  }
  if (!values['no-build']) {
    io.stdout.write('building the page…\n')
    await buildPage()
  }
  const dev = await startDevServer({ port: values.port === undefined ? undefined : Number(values.port), contentDir: values.content ? resolve(io.cwd, values.content) : undefined, cwd: io.cwd, env: io.env })
  const s = dev.status()
  io.stdout.write(`Parley dev on ${dev.url}  (${s.npcs.length} NPC${s.npcs.length === 1 ? '' : 's'}: ${s.npcs.join(', ')}; provider ${dev.provider}; watching ${values.content ?? 'content/'})\n`)
  for (const p of s.problems) io.stderr.write(`${p}\n`)
  let version = s.version
  const poll = setInterval(() => {
    const now = dev.status()
    if (now.version === version) return
    version = now.version
    io.stdout.write(`reloaded: ${now.npcs.join(', ')}${now.problems.length ? ` · ${now.problems.length} problem${now.problems.length === 1 ? '' : 's'}` : ' · no problems'}\n`)
    for (const p of now.problems) io.stderr.write(`${p}\n`)
  }, 200)
  await new Promise<void>((r) => {
    process.once('SIGINT', r)
    process.once('SIGTERM', r)
  })
  clearInterval(poll)
  await dev.close()
  return 0
}
