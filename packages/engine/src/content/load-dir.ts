import { readdir, realpath, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { parseNpc } from './parse.ts'
import { defaultContentRoot, readLoreFile, readTextFile, type LoreFileProblem } from './lore-file.ts'
import { ContentError, type ContentIssue } from './issues.ts'
import { positionIn } from './positions.ts'
import type { Npc } from './schema.ts'

export interface LoadOptions {
  /**
   * The content root: the folder holding `npcs/` and `lore/`. Every lore `file:` must resolve,
   * after symlinks, inside it. Default: the parent of the nearest folder named `npcs` above each
   * NPC file, or else the NPC file's own folder.
   */
  contentRoot?: string | undefined
}

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
 * Loads and validates NPC files (files or folders). One broken file never stops the others:
 * `npcs` holds every valid NPC, `issues` every problem in every other file, `broken` the files
 * that were left out. An id used by two files is reported at the second file's id, naming the first.
 */
export async function loadNpcs(paths: readonly string[], options: LoadOptions = {}): Promise<{ npcs: Npc[]; issues: ContentIssue[]; files: string[]; broken: string[] }> {
  const files = await listNpcFiles(paths)
  const results = await Promise.all(files.map((f) => loadNpcFile(f, options).then((npc) => ({ npc }), (error: unknown) => ({ error, file: f }))))
  const issues: ContentIssue[] = []
  const npcs: Npc[] = []
  const broken: string[] = []
  const byId = new Map<string, Npc>()
  for (const r of results) {
    if ('error' in r) {
      if (r.error instanceof ContentError) issues.push(...r.error.issues)
      else throw r.error
      broken.push(r.file)
      continue
    }
    const prior = byId.get(r.npc.id)
    if (prior) {
      const source = readTextFile(r.npc.source, r.npc.source)
      const at = positionIn(typeof source === 'string' ? source : '', ['id'])
      issues.push({ path: r.npc.source, ...at, code: 'id_clash', message: `NPC id "${r.npc.id}" is also used by ${prior.source}`, hint: 'ids must be unique across files' })
      broken.push(r.npc.source)
      continue
    }
    byId.set(r.npc.id, r.npc)
    npcs.push(r.npc)
  }
  return { npcs, issues, files, broken }
}

/** Every NPC in a folder; throws one ContentError listing all problems in all files. */
export async function loadNpcDir(dir: string, options: LoadOptions = {}): Promise<Npc[]> {
  const { npcs, issues } = await loadNpcs([dir], options)
  if (issues.length > 0) throw new ContentError(issues)
  return npcs
}

/** One NPC file, with its lore files read from inside the content root (see LoadOptions). */
export async function loadNpcFile(path: string, options: LoadOptions = {}): Promise<Npc> {
  let text: string | LoreFileProblem
  try {
    text = readTextFile(await realpath(path), 'the NPC file')
  } catch (error) {
    throw new ContentError([{ path, line: 1, col: 1, code: 'unreadable', message: `cannot read file: ${(error as Error).message}` }])
  }
  if (typeof text !== 'string') throw new ContentError([{ path, line: 1, col: 1, ...text }])
  const root = options.contentRoot ?? defaultContentRoot(path)
  return parseNpc(text, path, { readFile: (name) => readLoreFile(root, dirname(path), name) })
}
