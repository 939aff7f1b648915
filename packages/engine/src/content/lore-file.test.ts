import { describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultContentRoot, MAX_LORE_BYTES, readLoreFile } from './lore-file.ts'
import { parseNpc } from './parse.ts'

const within = <T>(run: (dir: string) => T): T => {
  const dir = mkdtempSync(join(tmpdir(), 'lore-file-'))
  try {
    return run(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('defaultContentRoot', () => {
  it('is the folder above the nearest npcs/ folder, or else the NPC file\'s own folder', () => {
    expect(defaultContentRoot('/game/content/npcs/guard.yaml')).toBe('/game/content')
    expect(defaultContentRoot('/game/content/npcs/town/guard.yaml')).toBe('/game/content')
    expect(defaultContentRoot('/game/dialogue/guard.yaml')).toBe('/game/dialogue')
  })
})

describe('readLoreFile', () => {
  it('even with the whole disk as the root, a device is not a regular file and is never read', () => {
    // The root "/" lets ../../…/dev/zero through the containment check, so this is the type check alone.
    const up = '../'.repeat(40)
    expect(readLoreFile('/', tmpdir(), `${up}dev/zero`)).toMatchObject({ code: 'not_regular_file', message: `lore file "${up}dev/zero" is a device, not a regular file` })
    expect(readLoreFile('/', tmpdir(), `${up}dev/null`)).toMatchObject({ code: 'not_regular_file' })
  })

  it('reads a file of exactly the limit and refuses one byte more', () => {
    within((dir) => {
      writeFileSync(join(dir, 'full.md'), Buffer.alloc(MAX_LORE_BYTES, 'x'))
      writeFileSync(join(dir, 'over.md'), Buffer.alloc(MAX_LORE_BYTES + 1, 'x'))
      expect((readLoreFile(dir, dir, 'full.md') as string).length).toBe(MAX_LORE_BYTES)
      expect(readLoreFile(dir, dir, 'over.md')).toMatchObject({ code: 'too_large' })
    })
  })

  it('a name that climbs out and back in is fine; one that stays out is not, even next door', () => {
    within((dir) => {
      mkdirSync(join(dir, 'content/lore'), { recursive: true })
      mkdirSync(join(dir, 'content-private'))
      writeFileSync(join(dir, 'content/lore/a.md'), 'inside')
      writeFileSync(join(dir, 'content-private/b.md'), 'private')
      const root = join(dir, 'content')
      expect(readLoreFile(root, join(root, 'npcs'), '../../content/lore/a.md')).toBe('inside')
      // A prefix check without a separator would let this through.
      expect(readLoreFile(root, join(root, 'npcs'), '../../content-private/b.md')).toMatchObject({ code: 'outside_root' })
    })
  })

  it('a symlinked root is compared after resolving it, so links inside it still work', () => {
    within((dir) => {
      mkdirSync(join(dir, 'real/lore'), { recursive: true })
      writeFileSync(join(dir, 'real/lore/a.md'), 'inside')
      symlinkSync(join(dir, 'real'), join(dir, 'alias'))
      expect(readLoreFile(join(dir, 'alias'), join(dir, 'alias/npcs'), '../lore/a.md')).toBe('inside')
    })
  })

  it('a root named through a symlink and NPC files named through the real path agree', () => {
    within((dir) => {
      mkdirSync(join(dir, 'real/lore'), { recursive: true })
      writeFileSync(join(dir, 'real/lore/a.md'), 'inside')
      symlinkSync(join(dir, 'real'), join(dir, 'alias'))
      expect(readLoreFile(join(dir, 'real'), join(dir, 'alias/npcs'), '../lore/a.md')).toBe('inside')
      expect(readLoreFile(join(dir, 'alias'), join(dir, 'real/npcs'), '../lore/a.md')).toBe('inside')
    })
  })

  it('a missing file is reported as missing inside the root, and as outside when it would be outside', () => {
    within((dir) => expect(readLoreFile(dir, dir, '../nowhere.md')).toMatchObject({ code: 'outside_root' }))
  })

  it('a missing file is reported as missing', () => {
    within((dir) => expect(readLoreFile(dir, dir, 'nowhere.md')).toMatchObject({ code: 'missing_file', message: 'cannot read lore file "nowhere.md"' }))
  })
})

describe('parseNpc without a file reader', () => {
  it('keeps a lore file unread, as documented: no error, no text, so it adds nothing to retrieval', () => {
    const npc = parseNpc('id: a\nname: A\npersona: P\nlines: { nudge: a, fallback: b, farewell: c }\nlore:\n  sources:\n    - file: /etc/passwd\n')
    expect(npc.lore!.sources[0]).toMatchObject({ file: '/etc/passwd' })
    expect(npc.lore!.sources[0]!.text).toBeUndefined()
  })
})
