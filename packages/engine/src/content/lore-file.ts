import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs'
import { basename, dirname, isAbsolute, relative, resolve, sep, win32 } from 'node:path'
import type { ContentIssueCode } from './issues.ts'

/** Lore and NPC files are prose a designer wrote: a megabyte is already a small novel. */
export const MAX_LORE_BYTES = 1_000_000

/** Why a content file was not read; parseNpc reports it at the `file:` value. */
export interface LoreFileProblem {
  readonly code: ContentIssueCode
  readonly message: string
  readonly hint?: string | undefined
}

/**
 * The content root of an NPC file when none is given: the parent of the nearest enclosing folder
 * named `npcs` (so `content/npcs/town/guard.yaml` has root `content/`, beside `content/lore/`), or
 * else the NPC file's own folder.
 */
export function defaultContentRoot(npcPath: string): string {
  const start = dirname(resolve(npcPath))
  for (let dir = start; ; dir = dirname(dir)) {
    if (basename(dir) === 'npcs') return dirname(dir)
    if (dirname(dir) === dir) return start
  }
}

const inside = (root: string, path: string) => {
  const rel = relative(root, path)
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
}

// Windows has neither flag (nor FIFOs in the file system); 0 there means "no flag".
const O_NONBLOCK = constants.O_NONBLOCK ?? 0
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder'
  if (info.isFIFO()) return 'a named pipe (FIFO)'
  if (info.isSocket()) return 'a socket'
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

const outside = (message: string): LoreFileProblem => ({ code: 'outside_root', message, hint: 'lore files live inside the content root, the folder holding npcs/ and lore/: copy the file there, or name the root with --root or contentRoot' })

/**
 * Reads one lore file named by an NPC file, refusing anything that is not a regular file of at most
 * MAX_LORE_BYTES inside `root`, after symlinks. A content file is untrusted input: it must not be
 * able to read the server's own files (`/proc/self/environ`, `../../.env`) into a prompt, nor hang
 * the loader on a FIFO or an endless device.
 */
export function readLoreFile(root: string, fromDir: string, name: string): string | LoreFileProblem {
  if (isAbsolute(name) || win32.isAbsolute(name)) return outside(`lore file "${name}" is an absolute path; name it relative to the NPC file`)
  const wanted = resolve(fromDir, name)
  // Only for the message: what decides is where the path really leads, below.
  const named = inside(resolve(root), wanted)
  let realRoot: string
  try {
    realRoot = realpathSync(root)
  } catch {
    return { code: 'missing_file', message: `the content root "${root}" does not exist`, hint: 'point the content root at the folder holding npcs/ and lore/' }
  }
  let real: string
  try {
    real = realpathSync(wanted)
  } catch {
    return named ? { code: 'missing_file', message: `cannot read lore file "${name}"`, hint: 'the path is relative to this NPC file' } : outside(`lore file "${name}" is outside the content root`)
  }
  if (!inside(realRoot, real)) return outside(named ? `lore file "${name}" is a link to a file outside the content root` : `lore file "${name}" is outside the content root`)
  return readTextFile(real, `lore file "${name}"`)
}

/**
 * Reads a content file (an NPC file or a lore file, its path already resolved through symlinks)
 * that must be a regular file of at most MAX_LORE_BYTES, without ever blocking on a FIFO or
 * reading an endless device: stat first, then a non-blocking open that does not follow a symlink,
 * an fstat that confirms it is the same regular file, and a bounded read. So a file swapped or
 * grown after the checks still cannot hang or flood the loader.
 */
export function readTextFile(path: string, label: string): string | LoreFileProblem {
  let before: Stats
  try {
    before = statSync(path)
  } catch {
    return { code: 'missing_file', message: `cannot read ${label}` }
  }
  const refused = refuse(label, before)
  if (refused) return refused
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | O_NONBLOCK | O_NOFOLLOW)
  } catch {
    return { code: 'unreadable', message: `cannot read ${label}` }
  }
  try {
    const opened = fstatSync(fd)
    if (opened.dev !== before.dev || opened.ino !== before.ino) return { code: 'unreadable', message: `${label} changed while it was being read`, hint: 'run the command again' }
    const again = refuse(label, opened)
    if (again) return again
    // Read to the end whatever fstat said (it is 0 on some special file systems, and the file may
    // have grown), but never past one byte more than allowed.
    const chunks: Buffer[] = []
    let length = 0
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, MAX_LORE_BYTES + 1 - length))
      const n = readSync(fd, chunk, 0, chunk.length, null)
      if (n === 0) break
      chunks.push(chunk.subarray(0, n))
      length += n
      if (length > MAX_LORE_BYTES) return tooLarge(label)
    }
    // As readFile(…, 'utf8') decodes: bad bytes become U+FFFD, which parseNpc reports with a position.
    return Buffer.concat(chunks, length).toString('utf8')
  } catch {
    return { code: 'unreadable', message: `cannot read ${label}` }
  } finally {
    closeSync(fd)
  }
}

function refuse(label: string, info: Stats): LoreFileProblem | undefined {
  if (!info.isFile()) return { code: 'not_regular_file', message: `${label} is ${kindOf(info)}, not a regular file`, hint: 'point at a Markdown, text or YAML file' }
  if (info.size > MAX_LORE_BYTES) return tooLarge(label)
  return undefined
}

const tooLarge = (label: string): LoreFileProblem => ({ code: 'too_large', message: `${label} is larger than ${MAX_LORE_BYTES / 1_000_000} MB`, hint: 'split it into several files' })
