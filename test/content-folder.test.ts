/**
 * A designer adds an NPC file to content/npcs, and a colleague's half-written one lands beside
 * it. Run on a copy of the repo's content/: the new NPC loads everywhere, and the broken one is
 * reported at its line while every other NPC is still served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import type { ContentIssue } from '@parley/engine'
import { formatIssue } from '@parley/engine/unstable'
import { listNpcFiles, loadNpcs } from '@parley/engine/node'
import { startDemoServer } from '../packages/demo-web/server.ts'
import { ROOT } from './helpers/npcs.ts'

const TSX = pathToFileURL(createRequire(`${ROOT}package.json`).resolve('tsx')).href
const FIXTURES = `${ROOT}test/fixtures/new-npc`

function run(cwd: string, file: string, args: string[], options: { input?: string; env?: Record<string, string>; until?: RegExp } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@parley/source', '--import', TSX, file, ...args], { cwd, env: { ...process.env, GLM_API_KEY: '', ...options.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
      if (options.until?.test(stdout)) child.kill('SIGINT')
    })
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}
const parley = (cwd: string, args: string[], input?: string) => run(cwd, `${ROOT}packages/engine/src/cli/main.ts`, args, input === undefined ? {} : { input })

describe('content/npcs with a new NPC, then a broken one beside it', () => {
  let dir: string
  let npcs: string
  let shipped: string[]
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-content-'))
    cpSync(`${ROOT}content`, join(dir, 'content'), { recursive: true })
    npcs = join(dir, 'content/npcs')
    // What the repo ships today, whatever that is (the new NPC too, if someone already added it).
    shipped = (await loadNpcs([npcs])).npcs.map((n) => n.id).filter((id) => id !== 'noodle-vendor')
    copyFileSync(`${FIXTURES}/noodle-vendor.yaml`, join(npcs, 'noodle-vendor.yaml'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  describe('a new valid NPC', () => {
    it('lints clean with every other file', async () => {
      const files = await listNpcFiles([npcs])
      const r = await parley(dir, ['lint'])
      expect(r.stderr).toBe('')
      expect(r.stdout.trim()).toBe(`${files.length} NPC files OK`)
      expect(r.code).toBe(0)
    })

    it('is served by the demo server beside every shipped NPC', async () => {
      const reported: ContentIssue[] = []
      const server = await startDemoServer({ port: 0, npcDir: npcs, env: { PARLEY_TYPING_MS: '0' }, onContentIssues: (issues) => reported.push(...issues) })
      try {
        const ids = ((await (await fetch(`http://127.0.0.1:${server.port}/api/npcs`)).json()) as { npcs: Array<{ id: string }> }).npcs.map((n) => n.id)
        expect(ids.sort()).toEqual([...shipped, 'noodle-vendor'].sort())
        expect(reported).toEqual([])
      } finally {
        await server.close()
      }
    })

    it('can be played in the terminal by its id', async () => {
      const r = await parley(dir, ['chat', 'noodle-vendor'], '/give ration_chip 2\n/flag regular\nsee you!\n')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('[flag regular set] [unlocked: courier_route]')
      expect(r.stdout).toContain('Noodle Vendor: Come back hungry!')
      expect(r.stderr).toBe('')
    })
  })

  describe('and a broken one beside it', () => {
    const BROKEN = [
      'content/npcs/street-doc.yaml:13:22: unknown item "stim" (declare it under "items:")',
      'content/npcs/street-doc.yaml:18:12: this text contains ": ", which YAML reads as the start of a new key: quote this text (write say: "synth-regret: all the same")',
    ]
    beforeAll(() => copyFileSync(`${FIXTURES}/half-written.yaml`, join(npcs, 'street-doc.yaml')))

    it('lint reports the broken file at its lines, and only it', async () => {
      const files = await listNpcFiles([npcs])
      const r = await parley(dir, ['lint'])
      expect(r.code).toBe(1)
      expect(r.stderr.trim().split('\n')).toEqual([...BROKEN, '', `2 problems in 1 file (${files.length - 1} of ${files.length} NPC files OK)`])
    })

    it('the loader returns every valid NPC and names the broken file', async () => {
      const loaded = await loadNpcs([npcs])
      expect(loaded.npcs.map((n) => n.id).sort()).toEqual([...shipped, 'noodle-vendor'].sort())
      expect(loaded.broken).toEqual([join(npcs, 'street-doc.yaml')])
      expect(loaded.issues.map((i) => formatIssue({ ...i, path: i.path.slice(dir.length + 1) }))).toEqual(BROKEN)
    })

    it('the demo server starts with every valid NPC and reports the broken one at its line', async () => {
      const r = await run(dir, `${ROOT}packages/demo-web/server.ts`, [], { env: { PORT: '0', PARLEY_NPC_DIR: npcs }, until: /Parley demo on/ })
      expect(r.stdout).toContain('Parley demo on http://127.0.0.1:')
      expect(r.stderr).toBe(`Left out 1 NPC file with problems (fix them, or run \`pnpm parley lint\`):\n${BROKEN.map((l) => `  ${join(dir, l)}`).join('\n')}\n`)
      expect(r.code).toBe(0)

      const reported: ContentIssue[] = []
      const server = await startDemoServer({ port: 0, npcDir: npcs, env: { PARLEY_TYPING_MS: '0' }, onContentIssues: (issues) => reported.push(...issues) })
      try {
        const api = `http://127.0.0.1:${server.port}/api`
        const ids = ((await (await fetch(`${api}/npcs`)).json()) as { npcs: Array<{ id: string }> }).npcs.map((n) => n.id)
        expect(ids.sort()).toEqual([...shipped, 'noodle-vendor'].sort())
        for (const id of ids) {
          const started = await fetch(`${api}/conversations`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-parley-client': 'designer-0000000000000000' }, body: JSON.stringify({ npc: id }) })
          expect(started.status, id).toBe(201)
        }
        expect(reported.map((i) => [i.line, i.col])).toEqual([[13, 22], [18, 12]])
      } finally {
        await server.close()
      }
    })

    it('chat still plays any valid NPC, and says which file was left out', async () => {
      const r = await parley(dir, ['chat', 'noodle-vendor'], 'see you!\n')
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('Noodle Vendor: Come back hungry!')
      expect(r.stderr).toBe('[left out 1 NPC file with problems: content/npcs/street-doc.yaml (run "parley lint")]\n')
    })

    it('chat with the broken NPC lists its problems and exits 1', async () => {
      const r = await parley(dir, ['chat', 'street-doc'])
      expect(r.code).toBe(1)
      expect(r.stderr.trim().split('\n')).toEqual(['no valid NPC "street-doc" in content/npcs; these files have problems:', ...BROKEN])
    })
  })
})
