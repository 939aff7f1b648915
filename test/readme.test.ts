/**
 * The README verified, not hoped: its TypeScript examples are files the run typechecks (they are
 * in tsconfig's include) and executes, its marked shell commands run as written, and its HTTP
 * route table is exactly the routes the demo server answers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { npcJsonSchema } from '@parley/engine/unstable'
import { startDemoServer } from '../packages/demo-web/server.ts'
import { startGlmEmulator, type GlmEmulator } from './glm-emulator/emulator.ts'
import { informant, ROOT } from './helpers/npcs.ts'
import { describeCondition } from '../packages/engine/src/conditions/evaluate.ts'
import { DemoProcess, TEST_GAME_KEY } from './helpers/demo-process.ts'

const README = readFileSync(`${ROOT}README.md`, 'utf8')
const TSX = pathToFileURL(createRequire(`${ROOT}package.json`).resolve('tsx')).href
const EXAMPLE = /<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g
const COMMANDS = /<!-- commands: run by test\/readme\.test\.ts -->\n```sh\n([\s\S]*?)```/g

function sh(command: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a command that never ends (a server) is stopped whole, not left running.
    const child = spawn('sh', ['-c', command], { cwd, env: { ...process.env, GLM_API_KEY: '', CI: '', ...env }, detached: true })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      stderr += `\n(still running after 120 s: stopped)`
      process.kill(-child.pid!, 'SIGKILL')
    }, 120_000)
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })))
    child.stdin.end()
  })
}
const example = (file: string, cwd: string, env: Record<string, string> = {}) => sh(`"${process.execPath}" --conditions=@parley/source --import ${TSX} ${join(ROOT, file)}`, cwd, env)

/** A checkout a reader would have: the repo's files, the installed packages, their own content/. */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-readme-'))
  for (const f of ['package.json', 'pnpm-workspace.yaml', 'tsconfig.json', 'tsconfig.base.json']) cpSync(`${ROOT}${f}`, join(dir, f))
  for (const d of ['packages', 'node_modules', 'docs', 'scripts']) symlinkSync(`${ROOT}${d}`, join(dir, d))
  cpSync(`${ROOT}content`, join(dir, 'content'), { recursive: true })
  return dir
}

let emu: GlmEmulator
let dir: string
beforeAll(async () => {
  emu = await startGlmEmulator({ apiKey: 'readme-key' })
  dir = checkout()
})
afterAll(async () => {
  await emu.close()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => emu.reset())

describe('the README\'s TypeScript', () => {
  const examples = [...README.matchAll(EXAMPLE)].map((m) => ({ file: m[1]!, body: m[2]! }))

  it('every ts block is an example file, copied exactly (node scripts/readme-examples.mjs rewrites them)', () => {
    expect(examples.map((e) => e.file).sort()).toEqual(['docs/examples/actions.ts', 'docs/examples/client.ts', 'docs/examples/embed.ts', 'docs/examples/http-game.ts', 'docs/examples/lore-embeddings.ts', 'docs/examples/memory.ts', 'docs/examples/trust.ts'])
    expect((README.match(/```ts\n/g) ?? []).length).toBe(examples.length)
    for (const e of examples) expect(e.body, `${e.file} differs from README.md`).toBe(readFileSync(`${ROOT}${e.file}`, 'utf8').replace(/\n*$/, '\n'))
  })

  it('the embedding example runs offline on the scripted provider', async () => {
    const r = await example('docs/examples/embed.ts', ROOT)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['[unlocked: bandit_hideout]', `boss_location: locked (${describeCondition(informant().secrets.find((x) => x.id === 'boss_location')!.unlock)})`, 'bandit_hideout: unlocked', 'refused: unknown_item', 'restored, unlocked: bandit_hideout']))
  })

  it('the embedding example runs against GLM (the emulator)', async () => {
    const r = await example('docs/examples/embed.ts', ROOT, { GLM_API_KEY: 'readme-key', GLM_BASE_URL: emu.url })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('透子的线人: echo: 你好')
    expect(r.stdout).toContain('echo: 我在找山贼透子 (reply)')
    expect(emu.chatRequests).toHaveLength(2)
  })

  it('the memory example: the informant remembers the player in the next conversation, and not after a new game', async () => {
    const r = await example('docs/examples/memory.ts', ROOT)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('returning: true')
    expect(r.stdout).toContain('remembers: 玩家说“我叫阿杰')
    expect(r.stdout).toContain('after a new game, returning: false')
  })

  it('the HTTP example: the game server starts a conversation for its player and gives the red gem with its key', async () => {
    const r = await example('docs/examples/http-game.ts', ROOT)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^200 \{\n  unlocked: \[ 'boss_location' \]/)
  })

  it('the client example: a player token, a streamed line, a gift by the game (a second one refused), a signed save', async () => {
    const server = await new DemoProcess({}).ready
    try {
      const r = await example('docs/examples/client.ts', ROOT, { PARLEY_URL: `${server.url}/api`, PARLEY_GAME_KEY: TEST_GAME_KEY })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('[unlocked: nothing]')
      expect(r.stdout).toContain('gave red_gem, unlocked: boss_location')
      expect(r.stdout).toContain('a second red gem refused: the player has none left')
      expect(r.stdout).toContain('a signed save of informant')
    } finally {
      await server.stop()
    }
  })

  it('the actions example carries out the map with 50 gold given, and refuses it through resolveAction(e.call.id)', async () => {
    const offline = await example('docs/examples/actions.ts', ROOT)
    expect(offline.code).toBe(0)
    expect(offline.stdout).toContain("status: 'done'")
    expect(offline.stdout).toContain("reason: 'not today'")
    emu.reply = (req) => {
      const last = req.body.messages.at(-1)
      if (last.role === 'tool') return '拿好了。'
      return { content: '', toolCalls: [{ name: 'give_map', arguments: '{"region":"北边的废墟"}' }] }
    }
    const r = await example('docs/examples/actions.ts', ROOT, { GLM_API_KEY: 'readme-key', GLM_BASE_URL: emu.url })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('透子的线人: 拿好了。')
    expect(r.stdout).toContain("status: 'done'")
    expect(r.stdout).toContain("reason: 'not today'")
  })

  it('the trust example prints what the README shows after it: deeds move trust within bounds, the description follows, 8 opens the boss without the gem', async () => {
    const shown = /<!-- example: docs\/examples\/trust\.ts -->\n```ts\n[\s\S]*?```\n\n```\n([\s\S]*?)```/.exec(README)
    expect(shown).not.toBeNull()
    const r = await example('docs/examples/trust.ts', ROOT)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(shown![1])
  })

  it('the lore example embeds with GLM embedding-3 and names the lore it sent', async () => {
    const r = await example('docs/examples/lore-embeddings.ts', dir, { GLM_API_KEY: 'readme-key', GLM_BASE_URL: emu.url })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^lore sent: city#\d+/m)
    expect(emu.requests.some((q) => q.path.endsWith('/embeddings'))).toBe(true)
  })
})

describe('the README\'s shell commands', () => {
  const commands = [...README.matchAll(COMMANDS)].flatMap((m) => m[1]!.split('\n')).map((l) => l.replace(/\s+#\s.*$/, '').trim()).filter(Boolean)

  it('are found', () => {
    expect(commands).toEqual(expect.arrayContaining(['pnpm -s parley schema > content/npc.schema.json', 'pnpm parley lint']))
  })

  it('each runs as written, in a checkout, and exits 0', { timeout: 180_000 }, async () => {
    const results = await Promise.all(commands.map((command) => sh(command, dir, { GLM_API_KEY: 'readme-key', GLM_BASE_URL: emu.url })))
    results.forEach((r, i) => expect(r.code, `${commands[i]}\n${r.stderr}`).toBe(0))
    // `-s` keeps pnpm's banner out of the file: it is the schema, nothing else.
    expect(JSON.parse(readFileSync(join(dir, 'content/npc.schema.json'), 'utf8'))).toEqual(npcJsonSchema())
  })
})

describe('the README\'s sample output', () => {
  const samples = [...README.matchAll(/<!-- output: checked by test\/readme\.test\.ts -->\n```\n\$ (.*)\n([\s\S]*?)```/g)].map((m) => ({ command: m[1]!, output: m[2]! }))

  it('is what the command prints today', { timeout: 120_000 }, async () => {
    expect(samples.length).toBeGreaterThanOrEqual(2)
    const results = await Promise.all(samples.map((s) => sh(s.command, ROOT)))
    results.forEach((r, i) => expect(r.stdout + r.stderr, samples[i]!.command).toBe(samples[i]!.output))
  })
})

describe('the README\'s HTTP route table', () => {
  /** `METHOD /api/path` from every table row in the README. */
  const documented = [...README.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/api\/[^`]*)` \|/gm)].map((m) => `${m[1]} ${m[2]}`)

  it('lists every route the demo server answers, and only those', { timeout: 120_000 }, async () => {
    const server = await startDemoServer({ port: 0, env: { PARLEY_TYPING_MS: '0', PARLEY_RATE_PER_MINUTE: '1000000' } })
    const api = `http://127.0.0.1:${server.port}`
    const client = { 'content-type': 'application/json', 'x-parley-client': 'readme-route-probe-000000' }
    const createRow = documented.find((d) => /^POST \/api\/[a-z]+$/.test(d) && d.includes('conversations'))
    const create = async () => {
      const res = await fetch(`${api}${createRow!.split(' ')[1]}`, { method: 'POST', headers: client, body: JSON.stringify({ npc: 'informant' }) })
      return ((await res.json()) as { id?: string }).id ?? '0'.repeat(32)
    }
    let shared: Promise<string> | undefined
    /** A route exists unless the server says there is no such route or method. */
    const exists = async (method: string, path: string) => {
      // A DELETE may end the conversation it probes, so it gets one of its own.
      const id = path.includes(':id') ? await (method === 'DELETE' ? create() : (shared ??= create())) : ''
      const res = await fetch(`${api}${path.replace(':id', id)}`, { method, headers: client, ...(method !== 'GET' && method !== 'DELETE' && { body: '{}' }) })
      const text = await res.text()
      return !(res.status === 405 || (res.status === 404 && /"message":"(no route|not found)/.test(text)))
    }
    try {
      expect(createRow).toBeDefined()
      for (const route of documented) {
        const [method, path] = route.split(' ') as [string, string]
        expect(await exists(method, path), `${route} is in the README but the server does not answer it`).toBe(true)
      }
      // The neighbours of every documented route: each literal segment swapped for every word the
      // handler's source compares paths with, under every method. Any that answers must be listed.
      const source = ['handler.ts', 'index.ts', 'routes.ts'].map((f) => {
        try {
          return readFileSync(`${ROOT}packages/engine/src/http/${f}`, 'utf8')
        } catch {
          return ''
        }
      }).join('\n')
      const words = [...new Set([...source.matchAll(/['`]([^'`\s]{1,80})['`]/g)].flatMap((m) => m[1]!.split('/')).filter((w) => /^[a-z][a-z_-]{2,30}$/.test(w)))]
      const shapes = [...new Set(documented.map((d) => d.split(' ')[1]!))]
      const candidates = new Set<string>()
      for (const shape of shapes) {
        const parts = shape.split('/')
        parts.forEach((part, i) => {
          if (i < 2 || part.startsWith(':')) return
          for (const w of words) candidates.add([...parts.slice(0, i), w, ...parts.slice(i + 1)].join('/'))
        })
        candidates.add(shape)
      }
      // A documented `:param` segment takes any value: `GET /api/memory/conversations` is `GET /api/memory/:npc`.
      const patterns = documented.map((d) => new RegExp(`^${d.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[a-z]+/g, '[^/]+')}$`))
      const probes = [...candidates].flatMap((path) => ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((method) => `${method} ${path}`)).filter((p) => !documented.includes(p) && !patterns.some((r) => r.test(p)))
      const undocumented: string[] = []
      for (let i = 0; i < probes.length; i += 32) {
        const batch = probes.slice(i, i + 32)
        const found = await Promise.all(batch.map((p) => exists(p.split(' ')[0]!, p.split(' ')[1]!)))
        undocumented.push(...batch.filter((_, j) => found[j]))
      }
      expect(undocumented, 'routes the server answers that the README table does not list').toEqual([])
    } finally {
      await server.close()
    }
  })
})
