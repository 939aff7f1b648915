import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConversation, scriptedProvider } from '@parley/engine'
import { loadNpcDir } from '@parley/engine/node'
import { ROOT } from './helpers/npcs.ts'
import { DemoProcess, player } from './helpers/demo-process.ts'
import { runParley } from './helpers/parley-cli.ts'

/** test/fixtures/content-passphrase: a gatekeeper whose passphrase is `^(a+)+$`. */
const FIXTURE = `${ROOT}test/fixtures/content-passphrase`
/** The worst line for `^(a+)+$` under backtracking: 2^1999 ways to split the a's before the "!" fails. */
const HOSTILE_LINE = 'a'.repeat(1999) + '!'

describe('a passphrase cannot stall a turn (RE2: linear in the line)', () => {
  it('the engine answers a 2,000-character line against `^(a+)+$`, and the pattern still works', async () => {
    const [npc] = await loadNpcDir(`${FIXTURE}/npcs`)
    const c = createConversation(npc!, { provider: scriptedProvider({ delayMs: 0 }) })
    const r = await c.say(HOSTILE_LINE)
    expect(r.kind).toBe('reply')
    expect(r.unlocked).toEqual([])
    expect((await c.say('a'.repeat(2000))).unlocked).toEqual(['gate_code'])
    expect((await c.say('OPEN Sesame')).unlocked).toEqual(['sesame'])
  }, 60_000)

  describe('through the demo server', () => {
    let demo: DemoProcess
    beforeAll(async () => {
      demo = await new DemoProcess({ PARLEY_CONTENT_DIR: FIXTURE }).ready
    })
    afterAll(() => demo?.stop())

    it('answers the hostile line, and keeps answering other players meanwhile', async () => {
      const call = player()
      const created = await call(demo, 'POST', '/conversations', { npc: 'gatekeeper' })
      expect(created.status).toBe(201)
      const other = player()
      const otherConvo = await other(demo, 'POST', '/conversations', { npc: 'gatekeeper' })
      const [hostile, bystander] = await Promise.all([
        call(demo, 'POST', `/conversations/${created.json.id}/messages`, { text: HOSTILE_LINE }),
        other(demo, 'POST', `/conversations/${otherConvo.json.id}/messages`, { text: 'hello' }),
      ])
      expect(hostile.status).toBe(200)
      expect(hostile.json.unlocked).toEqual([])
      expect(bystander.status).toBe(200)
      const open = await call(demo, 'POST', `/conversations/${created.json.id}/messages`, { text: 'a'.repeat(2000) })
      expect(open.json.unlocked).toEqual(['gate_code'])
    }, 60_000)
  })
})

describe('parley lint on patterns RE2 cannot compile', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-said-'))
    mkdirSync(join(dir, 'npcs'))
    writeFileSync(
      join(dir, 'npcs/echo.yaml'),
      [
        'id: echo',
        'name: Echo',
        'persona: You repeat things.',
        'lines: { nudge: a, fallback: b, farewell: c }',
        'secrets:',
        '  - id: twice',
        '    fact: Words said twice open the cave.',
        '    unlock: { said: { matches: "(\\\\w+) \\\\1" } }',
        '  - id: polite',
        '    fact: Please works.',
        '    unlock: { any: [ { flag: x }, { said: { matches: "please(?! not)" } } ] }',
        '  - id: verbose',
        '    fact: Long speeches bore the echo.',
        '    unlock: { said: { matches: "\\\\p{L}{800}" } }',
        '',
      ].join('\n'),
    )
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reports a backreference, a lookahead and an oversized pattern at the pattern, with the reason, and exits 1', async () => {
    const r = await runParley(['lint', 'npcs'], dir)
    expect(r.code).toBe(1)
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('npcs/'))
    expect(lines).toEqual([
      'npcs/echo.yaml:8:32: not a valid RE2 pattern: invalid escape sequence: `\\1` (RE2 has no backreferences: spell the alternatives out, e.g. "(ab|cd)" instead of "(a|c)\\1")',
      'npcs/echo.yaml:11:54: not a valid RE2 pattern: invalid or unsupported Perl syntax: `(?!` (RE2 has no lookahead or lookbehind: match the words themselves, or use "all:" and "not:" conditions)',
      'npcs/echo.yaml:14:32: this pattern is too complex for a passphrase: 802 RE2 instructions, at most 500 (match a few telling words rather than the whole line; large {n,m} counts multiply the size)',
    ])
  })
})
