import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isContentError, type ContentError } from '@parley/engine/unstable'
import { loadNpcDir } from '@parley/engine/node'
import { runParley } from './helpers/parley-cli.ts'
import { DemoProcess } from './helpers/demo-process.ts'

const SECRET = 'GLM_API_KEY=sk-must-never-leave-the-server'
const head = 'id: NAME\nname: N\npersona: P\nlines: { nudge: a, fallback: b, farewell: c }\nlore:\n  sources:\n'

/** Each hostile `file:` on its own line of npcs/hostile.yaml (line 7 onwards, value at column 13). */
const HOSTILE: Array<[file: string, code: string, message: RegExp]> = [
  ['/proc/self/environ', 'outside_root', /^lore file "\/proc\/self\/environ" is an absolute path; name it relative to the NPC file \(lore files live inside the content root, the folder holding npcs\/ and lore\/: copy the file there, or name the root with --root or contentRoot\)$/],
  ['/dev/zero', 'outside_root', /^lore file "\/dev\/zero" is an absolute path/],
  ['../../outside/secret.env', 'outside_root', /^lore file "..\/..\/outside\/secret.env" is outside the content root/],
  ['../../../../../../../../etc/passwd', 'outside_root', /^lore file "(..\/)+etc\/passwd" is outside the content root/],
  ['../lore/link-out.md', 'outside_root', /^lore file "..\/lore\/link-out.md" is a link to a file outside the content root/],
  ['../lore/zero', 'outside_root', /^lore file "..\/lore\/zero" is a link to a file outside the content root/],
  ['../lore/pipe', 'not_regular_file', /^lore file "..\/lore\/pipe" is a named pipe \(FIFO\), not a regular file/],
  ['../lore/folder', 'not_regular_file', /^lore file "..\/lore\/folder" is a folder, not a regular file/],
  ['../lore/big.md', 'too_large', /^lore file "..\/lore\/big.md" is larger than 1 MB \(split it into several files\)/],
]

let base: string
let content: string
let clean: string

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'parley-containment-'))
  mkdirSync(join(base, 'outside'))
  writeFileSync(join(base, 'outside/secret.env'), SECRET)

  content = join(base, 'content')
  mkdirSync(join(content, 'npcs'), { recursive: true })
  mkdirSync(join(content, 'lore/folder'), { recursive: true })
  symlinkSync(join(base, 'outside/secret.env'), join(content, 'lore/link-out.md'))
  symlinkSync('/dev/zero', join(content, 'lore/zero'))
  execFileSync('mkfifo', [join(content, 'lore/pipe')])
  writeFileSync(join(content, 'lore/big.md'), Buffer.alloc(2_000_000, 'a'))
  writeFileSync(join(content, 'npcs/hostile.yaml'), head.replace('NAME', 'hostile') + HOSTILE.map(([f]) => `    - file: ${f}\n`).join(''))

  // A content folder that does everything right, including a symlink that stays inside.
  clean = join(base, 'clean')
  mkdirSync(join(clean, 'npcs'), { recursive: true })
  mkdirSync(join(clean, 'lore/shared'), { recursive: true })
  writeFileSync(join(clean, 'lore/shared/city.md'), '# City\n\nThe night market opens at the third bell.')
  symlinkSync('shared/city.md', join(clean, 'lore/city-link.md'))
  writeFileSync(join(clean, 'npcs/guide.yaml'), head.replace('NAME', 'guide') + '    - file: ../lore/city-link.md\n')
})

afterAll(() => rmSync(base, { recursive: true, force: true }))

describe('lore files stay inside the content root', () => {
  it('`parley lint` reports every hostile lore path at its file: value and exits 1, promptly, FIFO included', async () => {
    // Before the fix the FIFO (and /dev/zero) made lint hang forever; the deadline is generous.
    const r = await runParley(['lint', 'npcs'], content, 60_000)
    expect(r.timedOut).toBe(false)
    expect(r.code).toBe(1)
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('npcs/'))
    expect(lines).toHaveLength(HOSTILE.length)
    HOSTILE.forEach(([, , message], i) => {
      const line = lines[i]!
      expect(line.startsWith(`npcs/hostile.yaml:${7 + i}:13: `), line).toBe(true)
      expect(line.slice(`npcs/hostile.yaml:${7 + i}:13: `.length)).toMatch(message)
    })
    expect(r.stderr).toContain(`${HOSTILE.length} problems in 1 file`)
    expect(r.stdout + r.stderr).not.toContain('sk-must-never-leave')
  })

  it('the loader the demo server uses refuses the same paths with the same positions', async () => {
    const error = await loadNpcDir(join(content, 'npcs'), { contentRoot: content }).catch((e: unknown) => e)
    expect(isContentError(error)).toBe(true)
    const issues = (error as ContentError).issues
    expect(issues.map((i) => [i.line, i.col, i.code])).toEqual(HOSTILE.map(([, code], i) => [7 + i, 13, code]))
    expect(JSON.stringify(issues)).not.toContain('sk-must-never-leave')
  })

  it('the demo server refuses to start on that content, saying where each problem is, and does not hang', async () => {
    const demo = new DemoProcess({ PARLEY_CONTENT_DIR: content })
    let stderr = ''
    demo.child.stderr!.on('data', (d) => (stderr += d))
    const started = await Promise.race([demo.ready.then(() => 'started', () => 'refused'), new Promise((r) => setTimeout(() => r('hung'), 45_000))])
    demo.kill()
    expect(started).toBe('refused')
    expect(demo.child.exitCode).toBe(1)
    for (const [file] of HOSTILE) expect(stderr).toContain(`lore file "${file}"`)
    expect(stderr).toMatch(/hostile\.yaml:13:13: lore file "..\/lore\/pipe" is a named pipe/)
    expect(stderr).not.toContain('sk-must-never-leave')
  }, 60_000)

  it('an NPC file that is a FIFO or a link to /dev/zero is refused too, without a hang', async () => {
    mkdirSync(join(base, 'odd'))
    execFileSync('mkfifo', [join(base, 'odd/pipe.yaml')])
    symlinkSync('/dev/zero', join(base, 'odd/zero.yaml'))
    const r = await runParley(['lint', 'odd'], base, 60_000)
    expect(r.timedOut).toBe(false)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('odd/pipe.yaml:1:1: the NPC file is a named pipe (FIFO), not a regular file')
    expect(r.stderr).toContain('odd/zero.yaml:1:1: the NPC file is a device, not a regular file')
  })

  it('a symlink inside the content root still works, for lint and for the loader', async () => {
    const r = await runParley(['lint', 'npcs'], clean)
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('1 NPC file OK')
    const [guide] = await loadNpcDir(join(clean, 'npcs'))
    expect(guide!.lore!.sources[0]!.text).toContain('The night market opens at the third bell.')
  })

  it('--root names the content root explicitly; outside it, even a sibling folder is refused', async () => {
    // With the NPC folder itself as the root, ../lore is outside it.
    const r = await runParley(['lint', 'npcs', '--root', 'npcs'], clean)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('npcs/guide.yaml:7:13: lore file "../lore/city-link.md" is outside the content root')
    expect((await runParley(['lint', 'npcs', '--root', 'no-such-root'], clean)).code).toBe(2)
  })
})
