import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { scenarioJsonSchema } from '@parley/engine/unstable'
import { useEmulator } from './helpers/emulator.ts'
import { ROOT } from './helpers/npcs.ts'
import { runParley, type RunOptions } from './helpers/parley-cli.ts'

/** The real CLI: `pnpm -s parley …` as a designer types it (`viaPnpm`), else the same entry point through node + tsx (faster). */
const parley = (args: string[], options: RunOptions & { cwd?: string } = {}) => runParley(args, options.cwd ?? ROOT, 120_000, options)

/** What the shipped scenario files declare, read from the folder (whatever NPCs it holds). */
function shippedScenarios(): Array<{ file: string; names: string[]; offline: string[] }> {
  const dir = `${ROOT}content/npcs`
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.yaml'))
    .sort()
    .map((f) => {
      const data = parse(readFileSync(join(dir, f), 'utf8')) as { scenarios: Array<{ name: string; offline?: boolean }> }
      return { file: `content/npcs/${f}`, names: data.scenarios.map((s) => s.name), offline: data.scenarios.filter((s) => s.offline).map((s) => s.name) }
    })
}

describe('parley test', () => {
  it('runs every shipped scenario offline and passes (what each file declares)', async () => {
    const shipped = shippedScenarios()
    expect(shipped.length).toBeGreaterThanOrEqual(2)
    const r = await parley(['test'], { viaPnpm: true })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    for (const { file, names } of shipped) {
      expect(r.stdout).toMatch(new RegExp(`^✓ ${file} \\(`, 'm'))
      for (const name of names) expect(r.stdout).toContain(`  ✓ ${name}\n`)
    }
    const total = shipped.reduce((n, s) => n + s.names.length, 0)
    expect(r.stdout).toContain(`${total} scenario${total === 1 ? '' : 's'} passed, 0 failed`)
  })

  it('a wrong expectation fails with its file:line:col, the step, expected, happened and the messages sent', async () => {
    const r = await parley(['test', 'test/fixtures/scenarios'])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('✓ test/fixtures/scenarios/guard.test.yaml (guard, scripted provider)')
    const failure = r.stdout.slice(r.stdout.indexOf('✗ test/fixtures/scenarios/wrong.test.yaml'))
    expect(failure).toContain(
      [
        '  ✗ the password is told only to pass holders',
        '  test/fixtures/scenarios/wrong.test.yaml:11:11: step 2 (say "Please?")',
        '    expected: secret password unlocked',
        '    happened: password is still locked: pass 0/1 ✗',
        '    messages sent, 74 prompt tokens (estimated):',
        '      system:',
        '        You guard the city gate. You are bored and strict.',
      ].join('\n'),
    )
    // The whole request: the locked hint (never the fact), the history, the line.
    expect(failure).toContain('        - You know the night password; only pass holders may hear it.\n      user:\n        What\'s the password?\n      assistant:\n        Passwords are for pass holders.\n      user:\n        Please?')
    expect(failure).not.toContain('swordfish')
    expect(r.stdout).toContain('  ✓ a save game from the game loads and continues')
    expect(r.stdout).toContain('2 scenarios passed, 1 failed')
    expect(readFileSync(`${ROOT}test/fixtures/scenarios/wrong.test.yaml`, 'utf8').split('\n')[10]!.slice(10)).toMatch(/^unlocked: password/)
  })

  describe('against a model (the GLM emulator)', () => {
    const emulator = useEmulator({ apiKey: 'scenario-key' })

    it('--provider glm runs the same scenarios, skipping and listing the offline-only expectations', async () => {
      const r = await parley(['test', '--provider', 'glm'], { env: { GLM_API_KEY: 'scenario-key', GLM_BASE_URL: emulator().url } })
      expect(r.code).toBe(0)
      expect(emulator().chatRequests.length).toBeGreaterThan(0)
      const shipped = shippedScenarios()
      for (const { file, names, offline } of shipped) {
        expect(r.stdout).toMatch(new RegExp(`^✓ ${file} \\([a-z-]+, glm provider\\)`, 'm'))
        for (const name of names) expect(r.stdout).toContain(offline.includes(name) ? `  - ${name} (offline only: skipped)` : `  ✓ ${name}\n`)
      }
      // Each skipped expectation is listed at its place, and that place holds it.
      const listed = [...r.stdout.matchAll(/^ {2}(content\/npcs\/[^:]+):(\d+):(\d+): (\w+)/gm)]
      expect(listed.length).toBeGreaterThan(0)
      for (const [, file, line, col, key] of listed) {
        const source = readFileSync(join(ROOT, file!), 'utf8').split('\n')[Number(line) - 1]!
        expect(source.slice(Number(col) - 1)).toMatch(new RegExp(`^${key}:`))
        expect(['reply', 'did', 'refused', 'offline']).toContain(key)
      }
    })

    it('--provider glm without a key is a usage error', async () => {
      const r = await parley(['test', '--provider', 'glm'])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('--provider glm needs GLM_API_KEY')
    })
  })

  it('a mistake in a scenario file is reported at file:line:col, with a did-you-mean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-scenarios-'))
    try {
      cpSync(`${ROOT}test/fixtures/scenarios/guard.yaml`, join(dir, 'guard.yaml'))
      writeFileSync(join(dir, 'guard.test.yaml'), 'scenarios:\n  - name: typo\n    steps:\n      - say: hi\n        expct: { locked: password }\n')
      writeFileSync(join(dir, 'other.test.yaml'), 'npc: guard\nscenarios:\n  - name: unknown names\n    steps:\n      - give: passs\n        expect: { locked: pasword }\n      - restore: nowhere\n')
      const r = await parley(['test', dir])
      expect(r.code).toBe(1)
      expect(r.stdout).toContain(`${join(dir, 'guard.test.yaml')}:5:9: unknown key "expct" (did you mean "expect"?)`)
      expect(r.stdout).toContain(`${join(dir, 'other.test.yaml')}:7:18: no save "nowhere" before this step`)
      expect(r.stdout).toContain('2 files could not run')
      writeFileSync(join(dir, 'other.test.yaml'), 'npc: guard\nscenarios:\n  - name: unknown names\n    steps:\n      - give: passs\n        expect: { locked: pasword }\n')
      const again = await parley(['test', join(dir, 'other.test.yaml')])
      expect(again.stdout).toContain(`${join(dir, 'other.test.yaml')}:5:15: guard has no item "passs" (did you mean "pass"?)`)
      expect(again.stdout).toContain(`${join(dir, 'other.test.yaml')}:6:27: guard has no secret "pasword" (did you mean "password"?)`)
      // `parley lint` checks scenario files too, without running them.
      const lint = await parley(['lint', dir])
      expect(lint.code).toBe(1)
      expect(lint.stderr).toContain(`${join(dir, 'guard.test.yaml')}:5:9: unknown key "expct" (did you mean "expect"?)`)
      expect(lint.stderr).toContain(`${join(dir, 'other.test.yaml')}:5:15: guard has no item "passs" (did you mean "pass"?)`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a new NPC with its scenario, added to content/npcs, is tested with the others and passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-new-npc-'))
    try {
      cpSync(`${ROOT}content`, join(dir, 'content'), { recursive: true })
      const guard = readFileSync(`${ROOT}test/fixtures/scenarios/guard.yaml`, 'utf8').replace('id: guard', 'id: night-guard')
      writeFileSync(join(dir, 'content/npcs/night-guard.yaml'), guard)
      const scenarios = readFileSync(`${ROOT}test/fixtures/scenarios/guard.test.yaml`, 'utf8')
      writeFileSync(join(dir, 'content/npcs/night-guard.test.yaml'), scenarios.slice(0, scenarios.indexOf('\n\n')))
      const r = await parley(['test'], { cwd: dir })
      expect(r.stdout).toContain('✓ content/npcs/night-guard.test.yaml (night-guard, scripted provider)')
      expect(r.code).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the README\'s scenario example runs and passes against the informant', async () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8')
    const section = readme.slice(readme.indexOf('### Testing an NPC: scenarios'))
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!
    const dir = mkdtempSync(join(tmpdir(), 'parley-readme-'))
    try {
      cpSync(`${ROOT}content`, join(dir, 'content'), { recursive: true })
      writeFileSync(join(dir, 'content/npcs/informant.test.yaml'), example)
      const r = await parley(['test', 'content/npcs/informant.test.yaml'], { cwd: dir })
      expect(r.stdout).toMatch(/[1-9]\d* scenarios? passed, 0 failed/)
      expect(r.code).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('content/scenario.schema.json is not stale (run `pnpm -s parley schema --scenario > content/scenario.schema.json`)', async () => {
    const r = await parley(['schema', '--scenario'])
    expect(JSON.parse(r.stdout)).toEqual(scenarioJsonSchema())
    expect(JSON.parse(readFileSync(`${ROOT}content/scenario.schema.json`, 'utf8'))).toEqual(scenarioJsonSchema())
    for (const { file } of shippedScenarios()) expect(readFileSync(join(ROOT, file), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../scenario.schema.json')
  })
})

describe('/why in parley chat', () => {
  it('shows each secret\'s condition tree with every leaf\'s progress, and what the next request carries', async () => {
    const r = await parley(['chat', 'test/fixtures/scenarios/guard.yaml'], { input: '/why\n/give pass\nhi\n/why\n' })
    expect(r.code).toBe(0)
    const [before, after] = r.stdout.split('why · guard').slice(1)
    expect(before).toContain('secrets\n  ✗ password: locked · next request carries only its hint\n      ✗ pass 0/1\n')
    expect(before).toContain('next request: facts none · hints password')
    expect(before).toContain('last request: none yet')
    expect(after).toContain('  ✓ password: unlocked · next request carries its fact\n      ✓ pass 1/1\n')
    expect(after).toContain('last request: facts password')
  })
})
