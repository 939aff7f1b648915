import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { readFileSync } from 'node:fs'
import { parseNpc } from './parse.ts'
import { ContentError, type ContentIssue } from './issues.ts'
import type { Npc } from './schema.ts'

/** `*.test.yaml` beside an NPC holds its scenarios (`parley test`), not an NPC. */
export const isScenarioFile = (name: string) => /\.test\.ya?ml$/i.test(name) && !name.startsWith('.')
const isNpcFile = (name: string) => /\.ya?ml$/i.test(name) && !name.startsWith('.') && !isScenarioFile(name)

/** Every NPC file under a folder (recursively) or the given files. */
export async function listNpcFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    const info = await stat(p)
    if (info.isDirectory()) {
      const entries = await readdir(p, { withFileTypes: true })
      const children = entries.filter((e) => e.isDirectory() || isNpcFile(e.name)).map((e) => join(p, e.name))
      out.push(...(await listNpcFiles(children.sort())))
    } else out.push(p)
  }
  return out
}

/**
 * Loads and validates NPC files (files or folders), collecting every problem in every file rather
 * than stopping at the first. An id used by two files is reported on the second, naming the first.
 */
export async function loadNpcs(paths: readonly string[]): Promise<{ npcs: Npc[]; issues: ContentIssue[]; files: string[] }> {
  const files = await listNpcFiles(paths)
  const results = await Promise.all(files.map((f) => loadNpcFile(f).then((npc) => ({ npc }), (error: unknown) => ({ error }))))
  const issues: ContentIssue[] = []
  const npcs: Npc[] = []
  const byId = new Map<string, Npc>()
  for (const r of results) {
    if ('error' in r) {
      if (r.error instanceof ContentError) issues.push(...r.error.issues)
      else throw r.error
      continue
    }
    const prior = byId.get(r.npc.id)
    if (prior) {
      issues.push({ path: r.npc.source, line: 1, col: 1, code: 'id_clash', message: `NPC id "${r.npc.id}" is also used by ${prior.source}`, hint: 'ids must be unique across files' })
      continue
    }
    byId.set(r.npc.id, r.npc)
    npcs.push(r.npc)
  }
  return { npcs, issues, files }
}

/** Every NPC in a folder; throws one ContentError listing all problems in all files. */
export async function loadNpcDir(dir: string): Promise<Npc[]> {
  const { npcs, issues } = await loadNpcs([dir])
  if (issues.length > 0) throw new ContentError(issues)
  return npcs
}

export async function loadNpcFile(path: string): Promise<Npc> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ContentError([{ path, line: 1, col: 1, code: 'unreadable', message: `cannot read file: ${(error as Error).message}` }])
  }
  const readLore = (relative: string) => {
    try {
      return readFileSync(resolve(dirname(path), relative), 'utf8')
    } catch {
      return undefined
    }
  }
  return parseNpc(text, path, { readFile: readLore })
}
