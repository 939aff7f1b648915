import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listNpcFiles } from '@parley/engine/node'
import { startDevServer } from '../packages/demo-web/dev-server.ts'
import { ROOT } from './helpers/npcs.ts'

const GUARD = readFileSync(`${ROOT}test/fixtures/scenarios/guard.yaml`, 'utf8')

/** The dev server over a copy of content/ with the guard fixture added; edits happen in the copy. */
describe('parley dev (the server)', () => {
  let dir: string
  let dev: Awaited<ReturnType<typeof startDevServer>>
  const guardFile = () => join(dir, 'content/npcs/guard.yaml')
  // The page's player: the server issues its id as a cookie, kept across calls (and across reloads).
  let cookie = ''
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${dev.url}${path}`, { method, headers: { 'content-type': 'application/json', ...(cookie && { cookie }) }, ...(body !== undefined && { body: JSON.stringify(body) }) })
    const set = res.headers.getSetCookie().find((c) => c.startsWith('parley_client='))
    if (set) cookie = set.split(';')[0]!
    return { status: res.status, json: (await res.json()) as any }
  }
  /** Waits for the reload after an edit: the version moves on. */
  const edited = async (write: () => void) => {
    const before = dev.status().version
    write()
    const deadline = Date.now() + 15_000
    while (dev.status().version === before) {
      if (Date.now() > deadline) throw new Error('no reload within 15 s')
      await new Promise((r) => setTimeout(r, 25))
    }
    await dev.settled()
    return dev.status()
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-dev-'))
    cpSync(`${ROOT}content`, join(dir, 'content'), { recursive: true })
    writeFileSync(join(dir, 'content/npcs/guard.yaml'), GUARD)
    dev = await startDevServer({ port: 0, contentDir: join(dir, 'content'), cwd: dir, env: { PARLEY_TYPING_MS: '0' }, debounceMs: 50 })
  })
  afterAll(async () => {
    await dev?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves every NPC in content/npcs, and the page API lists them all', async () => {
    const files = await listNpcFiles([join(dir, 'content/npcs')])
    const status = (await call('GET', '/dev/status')).json
    expect(status.problems).toEqual([])
    expect(status.npcs).toHaveLength(files.length)
    expect(status.npcs).toContain('guard')
    expect((await call('GET', '/api/npcs')).json.npcs.map((n: { id: string }) => n.id).sort()).toEqual(status.npcs)
  })

  it("the page API streams request bodies to the engine, so its size cap holds: a body of megabytes is refused, not buffered", async () => {
    const huge = new ReadableStream({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('x'.repeat(64 * 1024)))
      },
    })
    // No content-length: the engine must cut the body off as it arrives.
    const res = await fetch(`${dev.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('body_too_large')
  })

  it('a saved edit is reloaded and the open conversation kept where its save still fits; a broken file is reported at file:line:col while the rest (and its last good version) keep serving', async () => {
    const created = (await call('POST', '/api/conversations', { npc: 'guard' })).json
    await call('POST', `/api/conversations/${created.id}/messages`, { text: 'the password?' })
    // The dev server plays the game, as the demo server does: the page asks it to hand the pass over.
    expect((await call('POST', `/demo/conversations/${created.id}/give`, { item: 'pass' })).status).toBe(200)
    expect(created.explain.secrets[0]).toMatchObject({ id: 'password', unlocked: false, condition: { label: 'pass', progress: '0/1' } })

    // A second secret that waits for the first: on reload the conversation continues and it unlocks.
    const status = await edited(() => writeFileSync(guardFile(), GUARD.replace('scripted:', '  - id: gate_code\n    fact: The gate code is 4411.\n    unlock: { unlocked: password }\nscripted:')))
    expect(status.problems).toEqual([])
    const after = (await call('GET', `/api/conversations/${created.id}`)).json
    expect(after.history.map((h: { content: string }) => h.content)).toEqual(['the password?', 'Passwords are for pass holders.'])
    expect(after.explain.secrets.map((s: { id: string; unlocked: boolean }) => [s.id, s.unlocked])).toEqual([['password', true], ['gate_code', true]])

    // Broken: reported at its line; the guard keeps serving from its last good version, the others too.
    const broken = await edited(() => writeFileSync(guardFile(), GUARD.replace('persona:', 'greting: hi\npersona:')))
    expect(broken.problems).toEqual(['content/npcs/guard.yaml:4:1: unknown key "greting" (did you mean "greeting"?)'])
    expect(broken.stale).toEqual(['guard'])
    expect(broken.npcs).toContain('guard')
    expect(broken.npcs.length).toBe(status.npcs.length)
    expect((await call('POST', `/api/conversations/${created.id}/messages`, { text: 'still there?' })).status).toBe(200)

    // An edit the save no longer fits: another NPC's id in the file. The old conversation is refused cleanly.
    const moved = await edited(() => writeFileSync(guardFile(), GUARD.replace('id: guard', 'id: gate-guard')))
    expect(moved.problems).toEqual([])
    expect(moved.npcs).toContain('gate-guard')
    expect(moved.npcs).not.toContain('guard')
    const gone = await call('GET', `/api/conversations/${created.id}`)
    expect(gone.status).toBe(404)
    expect(gone.json.error.code).toBe('unknown_npc')
  })
})
