import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { npcJsonSchema } from '@parley/engine/unstable'
import { listNpcFiles } from '@parley/engine/node'
import { cliInProcess, runParley, type RunOptions } from './helpers/parley-cli.ts'
import { startGlmEmulator, type GlmEmulator } from './glm-emulator/emulator.ts'
import { NPC_DIR, ROOT } from './helpers/npcs.ts'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const TSX = pathToFileURL(createRequire(`${ROOT}package.json`).resolve('tsx')).href

/** Runs the real `pnpm parley …` command, as a designer would; `--dir D` (first) runs it inside D, as a designer working in another checkout would. */
function parley(args: string[], options: RunOptions = {}) {
  const [cwd, rest] = args[0] === '--dir' ? [args[1]!, args.slice(2)] : [ROOT, args]
  return runParley(rest, cwd, 120_000, { ...options, viaPnpm: cwd === ROOT })
}

/** The NPC files in content/npcs, as the loader finds them: the tests expect what the folder holds. */
const npcFiles = () => listNpcFiles([NPC_DIR])

const inProcess = (args: string[]) => cliInProcess(args)

describe('parley lint', () => {
  it('`pnpm parley lint content/npcs` exits 0 on the shipped NPCs', async () => {
    const r = await parley(['lint', 'content/npcs'])
    expect(r.stderr).toBe('')
    const files = await npcFiles()
    expect(r.stdout.trim()).toBe(`${files.length} NPC file${files.length === 1 ? '' : 's'} OK`)
    expect(r.code).toBe(0)
  })

  it('prints one path:line:col line per mistake and exits 1', async () => {
    const r = await parley(['lint', 'test/fixtures/broken/three-mistakes.yaml'])
    expect(r.code).toBe(1)
    const lines = r.stderr.trim().split('\n').filter((l) => l.includes('.yaml:'))
    expect(lines).toEqual([
      'test/fixtures/broken/three-mistakes.yaml:5:15: max_failures: expected a number, got text "lots"',
      'test/fixtures/broken/three-mistakes.yaml:11:22: unknown item "keys" (did you mean "key"?)',
      'test/fixtures/broken/three-mistakes.yaml:12:1: unknown key "secrts" (did you mean "secrets"?)',
    ])
    expect(r.stderr).toContain('3 problems in 1 file')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('exits 2 on usage errors', async () => {
    expect((await inProcess(['lint', 'no/such/dir'])).code).toBe(2)
    expect((await inProcess(['frobnicate'])).code).toBe(2)
    expect((await inProcess(['chat'])).code).toBe(2)
  })

  it('reports an id used by two files, naming both', async () => {
    const r = await inProcess(['lint', 'content/npcs/informant.yaml', 'content/npcs/informant.yaml'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('NPC id "informant" is also used by content/npcs/informant.yaml')
  })
})

describe('parley schema', () => {
  it('prints the JSON Schema, and content/npc.schema.json is not stale (run `pnpm parley schema > content/npc.schema.json`)', async () => {
    const r = await inProcess(['schema'])
    expect(JSON.parse(r.stdout)).toEqual(npcJsonSchema())
    expect(JSON.parse(readFileSync(`${ROOT}content/npc.schema.json`, 'utf8'))).toEqual(npcJsonSchema())
  })

  it('every NPC file names the schema for editors', async () => {
    for (const f of await npcFiles()) {
      const schema = relative(dirname(f), `${ROOT}content/npc.schema.json`)
      expect(readFileSync(f, 'utf8').split('\n')[0], f).toBe(`# yaml-language-server: $schema=${schema}`)
    }
  })
})

const SESSION = ['你好，我在找山贼透子', '/give gold 50', '天下没有免费的午餐，50金币如何？', '', '/give red_gem', '/state', '幕后BOSS在哪？', '任务结束！', '这句不会被回答'].join('\n') + '\n'

describe('parley chat', () => {
  let emu: GlmEmulator
  beforeAll(async () => {
    emu = await startGlmEmulator({ apiKey: 'cli-key' })
  })
  afterAll(() => emu.close())

  it('plays the seed\'s session on the scripted provider from piped input', async () => {
    const r = await parley(['chat', 'informant'], { input: SESSION })
    expect(r.code).toBe(0)
    const out = r.stdout
    expect(out).toContain('scripted provider')
    expect(out).toContain('透子的线人: 想买点情报吗，陌生人？')
    expect(out).toContain('[gave 金币 ×50] [unlocked: bandit_hideout]')
    expect(out).toMatch(/透子的线人: 50金币可不是一笔小数目。好吧，最近有人看到山贼透子在北边的废墟附近出没/)
    expect(out).toContain('透子的线人: 你好，你想要什么情报吗')
    expect(out).toContain('[gave 红色的宝石 ×1] [unlocked: boss_location]')
    expect(out).toContain('幕后BOSS就在山庄里')
    expect(out.trim().endsWith('透子的线人: Bye! welcome back anytime!')).toBe(true)
    expect(out).not.toContain('这句不会被回答\n透子的线人')
  })

  it('plays the same session against GLM (the emulator) when GLM_API_KEY is set', async () => {
    emu.reset()
    emu.reply = (req) => `收到：${req.body.messages.at(-1).content}`
    const r = await parley(['chat', 'content/npcs/informant.yaml'], { input: SESSION, env: { GLM_API_KEY: 'cli-key', GLM_BASE_URL: emu.url } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('glm provider · glm-4-flash')
    expect(r.stdout).toContain('透子的线人: 收到：你好，我在找山贼透子')
    expect(emu.chatRequests).toHaveLength(3)
    const [first, , third] = emu.chatRequests.map((q) => q.body.messages[0].content as string)
    expect(first).not.toContain('幕后BOSS就在山庄里')
    expect(third).toContain('幕后BOSS就在山庄里')
    expect(r.stdout.trim().endsWith('Bye! welcome back anytime!')).toBe(true)
  })

  it('GLM_MODEL overrides the file\'s model; --provider scripted overrides the key', async () => {
    emu.reset()
    await parley(['chat', 'informant'], { input: 'hi\n', env: { GLM_API_KEY: 'cli-key', GLM_BASE_URL: emu.url, GLM_MODEL: 'glm-4-air' } })
    expect(emu.chatRequests[0]!.body.model).toBe('glm-4-air')
    const r = await parley(['chat', 'informant', '--provider', 'scripted'], { input: 'hi\n', env: { GLM_API_KEY: 'cli-key', GLM_BASE_URL: emu.url } })
    expect(r.stdout).toContain('scripted provider')
    expect(emu.chatRequests).toHaveLength(1)
  })

  it('`parley index` embeds lore once; the second run is all cache; a broken file is reported and does not hold up the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-index-'))
    try {
      cpSync(`${ROOT}content`, join(dir, 'content'), { recursive: true })
      const env = { GLM_API_KEY: 'cli-key', GLM_BASE_URL: emu.url }
      const first = await parley(['--dir', dir, 'index'], { env })
      const [, chunks, now] = /informant: (\d+) lore chunks, (\d+) embedded now, 0 from the cache/.exec(first.stdout) ?? []
      expect(Number(chunks)).toBeGreaterThan(0)
      expect(now).toBe(chunks)
      expect(first.code).toBe(0)
      const second = await parley(['--dir', dir, 'index'], { env })
      expect(second.stdout).toContain(`informant: ${chunks} lore chunks, 0 embedded now, ${chunks} from the cache`)
      expect((await parley(['--dir', dir, 'index'])).stderr).toContain('set GLM_API_KEY')

      writeFileSync(join(dir, 'content/npcs/zz-broken.yaml'), 'id: broken\nname: [unclosed\n')
      const third = await parley(['--dir', dir, 'index'], { env })
      expect(third.code).toBe(1)
      expect(third.stderr).toMatch(/zz-broken\.yaml:\d+:\d+: /)
      expect(third.stderr).toContain('the others are indexed')
      expect(third.stdout).toContain(`informant: ${chunks} lore chunks, 0 embedded now, ${chunks} from the cache`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.skipIf(!existsSync('/usr/bin/script'))('on a terminal the reply streams in as it arrives', async () => {
    const slow = await startGlmEmulator({ apiKey: 'cli-key', chunkSize: 2, chunkDelayMs: 60, reply: () => '想买点情报吗，陌生人？这条街上的事我都知道。' })
    try {
      // `script` gives the chat a real pseudo-terminal, as a player's terminal would.
      const command = `node --conditions=@parley/source --import ${TSX} ${ROOT}packages/engine/src/cli/main.ts chat informant`
      const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, GLM_API_KEY: 'cli-key', GLM_BASE_URL: slow.url } })
      const reads: string[] = []
      child.stdout.on('data', (d: Buffer) => reads.push(d.toString()))
      const seen = () => reads.join('')
      const until = async (text: string) => {
        while (!seen().includes(text)) await new Promise((r) => setTimeout(r, 20))
      }
      await until('> ')
      child.stdin.write('你好\n')
      await until('我都知道。')
      child.stdin.write('/quit\n')
      await new Promise((r) => child.on('close', r))
      const replyReads = reads.filter((r) => /[买情报陌生这条街事知]/.test(r) && !r.includes('scripted'))
      // Delivered piece by piece, not as one line at the end.
      expect(replyReads.length).toBeGreaterThanOrEqual(3)
      expect(seen()).toContain('透子的线人: 想买点情报吗，陌生人？这条街上的事我都知道。')
      expect(seen()).toContain('Bye! welcome back anytime!')
    } finally {
      await slow.close()
    }
  }, 30_000)

  it('shows the fallback line, not a stack trace, when GLM is down', async () => {
    const r = await parley(['chat', 'informant'], { input: 'hi\n', env: { GLM_API_KEY: 'cli-key', GLM_BASE_URL: 'http://127.0.0.1:9/api' } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('透子的线人: 抱歉，刚才我打盹了，我再试试')
    expect(r.stderr).toContain('[model failed: network')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
