import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { loadNpcDir } from '@parley/engine/node'
import { compare, median, table, ROOT } from '../lib.ts'
import type { SectionOptions, SectionResult } from './common.ts'

/** Issues 3 and 7.6: load and validate 1,000 NPC files of about 2 KB, against parsing their YAML alone. */
export async function contentSection({ quick }: SectionOptions): Promise<SectionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-npcs-'))
  try {
    // About 2 KB, as the issue sets: the informant's core (persona, lines, items, secrets,
    // actions) without its scripted lines and lore, which only make the file longer.
    const full = readFileSync(join(ROOT, 'content/npcs/informant.yaml'), 'utf8').replace(/^# .*\n/gm, '')
    const template = full.replace(/\nlore:[\s\S]*$/, '\n')
    for (let i = 0; i < 1000; i++) writeFileSync(join(dir, `npc-${i}.yaml`), template.replace('id: informant', `id: npc-${i}`))
    const size = Buffer.byteLength(template)
    const figures = await compare(
      '1,000 NPC files',
      {
        'read + yaml.parse only': () => readdirSync(dir).map((f) => parse(readFileSync(join(dir, f), 'utf8'))),
        'parley loadNpcDir (positions, schema, references)': async () => {
          const npcs = await loadNpcDir(dir)
          if (npcs.length !== 1000) throw new Error('expected 1000 NPCs')
        },
      },
      { rounds: quick ? 2 : 5, time: quick ? 500 : 1500, warmup: 2, iterations: 3 },
    )
    const ours = median(figures[1]!.rounds)
    return {
      markdown: `## Content (issues 3, 7.6)\n\n1,000 NPC files of ${(size / 1024).toFixed(1)} KB each, loaded from disk and validated:\n\n${table(figures, 'read + yaml.parse only')}`,
      reading: `Content: 1,000 NPC files load and validate in ${ours.toFixed(0)} ms (goal < 1 s: ${ours < 1000 ? 'met' : 'missed'}).`,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
