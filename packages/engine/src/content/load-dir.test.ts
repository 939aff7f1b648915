import { describe, expect, it } from 'vitest'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadNpcDir } from './load-dir.ts'
import { ContentError } from './issues.ts'

const npc = (id: string, extra = '') => `id: ${id}\nname: N\npersona: P\nlines: { nudge: a, fallback: b, farewell: c }\n${extra}`

describe('loadNpcDir', () => {
  it('loads every NPC file in a folder and its subfolders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcs-'))
    try {
      writeFileSync(join(dir, 'a.yaml'), npc('a'))
      mkdirSync(join(dir, 'town'))
      writeFileSync(join(dir, 'town', 'b.yml'), npc('b'))
      writeFileSync(join(dir, 'notes.txt'), 'not an npc')
      expect((await loadNpcDir(dir)).map((n) => n.id).sort()).toEqual(['a', 'b'])
    } finally {
      rmSync(dir, { recursive: true })
    }
  })

  it('reports an id used by two files, naming both, and every problem in every file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcs-'))
    try {
      writeFileSync(join(dir, 'a.yaml'), npc('twin'))
      writeFileSync(join(dir, 'b.yaml'), '# the same NPC again\n' + npc('twin'))
      writeFileSync(join(dir, 'c.yaml'), npc('c', 'greting: hi\n'))
      const error = await loadNpcDir(dir).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ContentError)
      const messages = (error as ContentError).issues.map((i) => `${i.path.replace(dir, '')}:${i.line}:${i.col}:${i.code}:${i.message}`)
      // The clash points at the id itself, not at 1:1.
      expect(messages).toEqual([`/b.yaml:2:5:id_clash:NPC id "twin" is also used by ${join(dir, 'a.yaml')}`, '/c.yaml:5:1:unknown_key:unknown key "greting"'])
    } finally {
      rmSync(dir, { recursive: true })
    }
  })

  it('reads lore files relative to the NPC file, and reports a missing one at its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'npcs-'))
    try {
      mkdirSync(join(dir, 'lore'))
      writeFileSync(join(dir, 'lore', 'town.md'), '# Town\n\nThe mill burned down last winter.')
      writeFileSync(join(dir, 'a.yaml'), npc('a', 'lore:\n  sources:\n    - file: lore/town.md\n'))
      writeFileSync(join(dir, 'b.yaml'), npc('b', 'lore:\n  sources:\n    - file: lore/nowhere.md\n'))
      const error = (await loadNpcDir(dir).catch((e: unknown) => e)) as ContentError
      expect(error.issues.map((i) => [i.path.replace(dir, ''), i.line, i.col, i.code, i.message])).toEqual([['/b.yaml', 7, 13, 'missing_file', 'cannot read lore file "lore/nowhere.md"']])
      rmSync(join(dir, 'b.yaml'))
      const [a] = await loadNpcDir(dir)
      expect(a!.lore!.sources[0]!.text).toContain('The mill burned down')
    } finally {
      rmSync(dir, { recursive: true })
    }
  })
})
