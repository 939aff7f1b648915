import { parseDocument, LineCounter, type Document } from 'yaml'
import type { z } from 'zod'
import { CONDITION_KEYS, npcSchema, type Npc } from './schema.ts'
import { ContentError, type ContentIssue, type ContentIssueCode } from './issues.ts'
import { formatPath, keyNode, locate, position } from './positions.ts'
import { collectionKeys, flowCommaTraps, syntaxReport } from './syntax.ts'
import { didYouMean } from './suggest.ts'
import { checkReferences } from './references.ts'
import { allowedKeys } from './schema-walk.ts'

/** Beyond these, a file is refused before the YAML parser sees it: NPC files are a few KB. */
export const MAX_FILE_BYTES = 1_000_000
const MAX_FLOW_DEPTH = 64
const MAX_DEPTH = 64
const MAX_ISSUES = 100

type Position = { line: number; col: number }

/**
 * Parses and validates one NPC file. Every problem is collected, not just the first, and each
 * points at the offending node so an editor can jump to it.
 * @throws ContentError when the file has any problem
 * @example
 * const npc = parseNpc(await readFile(p, 'utf8'), p)
 */
export interface ParseOptions {
  /**
   * Reads a lore file named relative to the NPC file: its text, or why it was refused (reported at
   * the `file:` value), or undefined when it cannot be read. `@parley/engine/node`'s loaders pass
   * one that keeps files inside the content root.
   *
   * Without it (in a browser, say) lore files are not an error but stay unread: the source keeps
   * its `file` and gets no `text`, so it adds nothing to retrieval and only inline lore is used.
   */
  readFile?: ((relativePath: string) => string | { code: ContentIssueCode; message: string; hint?: string | undefined } | undefined) | undefined
}

export function parseNpc(text: string, path = '<npc>', options: ParseOptions = {}): Npc {
  const issues: ContentIssue[] = []
  const add = (code: ContentIssueCode, at: Position, message: string, hint?: string) => {
    if (issues.length < MAX_ISSUES) issues.push({ path, line: at.line, col: at.col, code, message, hint })
  }
  const start = { line: 1, col: 1 }

  if (text.length > MAX_FILE_BYTES) {
    add('too_large', start, `file is ${text.length} characters; NPC files are limited to ${MAX_FILE_BYTES}`, 'split lore into separate files')
    throw new ContentError(issues)
  }
  const junk = /[\u0000-\u0008\u000e-\u001f\ufffd]/.exec(text)
  if (junk) {
    const before = text.slice(0, junk.index)
    const line = before.split('\n').length
    add('not_text', { line, col: junk.index - before.lastIndexOf('\n') }, 'file is not UTF-8 text (control or invalid bytes)', 'save the file as UTF-8')
    throw new ContentError(issues)
  }
  if (flowDepth(text) > MAX_FLOW_DEPTH) {
    add('too_complex', start, `brackets nest deeper than ${MAX_FLOW_DEPTH} levels`, 'NPC files never need this much nesting')
    throw new ContentError(issues)
  }

  const yamlOptions = { uniqueKeys: true, prettyErrors: false, keepSourceTokens: false, logLevel: 'error' } as const
  const original = new LineCounter()
  // logLevel 'error': the parser's warnings (a list used as a key, say) become our issues, never process warnings.
  const parsedText = parseDocument(text, { ...yamlOptions, lineCounter: original })
  const syntax = syntaxReport(text, parsedText, original)
  for (const issue of syntax.issues) add(issue.code, issue.at, issue.message, issue.hint)
  if (syntax.fatal) throw new ContentError(issues)
  const hasSyntaxErrors = issues.length > 0

  // The rest of the file is checked as the hints would have it: with the quotes added and the
  // indentation fixed, the parser sees the structure the writer meant. Anything it still cannot
  // recover is left out, one top-level entry (`lines:`, `secrets:`, …) at a time.
  let lineCounter = original
  let doc = parsedText
  let source = text
  let checked = syntax
  if (syntax.repaired !== undefined) {
    const counter = new LineCounter()
    const fixed = parseDocument(syntax.repaired, { ...yamlOptions, lineCounter: counter })
    const again = syntaxReport(syntax.repaired, fixed, counter)
    if (!again.fatal) {
      lineCounter = counter
      doc = fixed
      source = syntax.repaired
      checked = again
    }
  }
  const badKeys = collectionKeys(doc, lineCounter)
  for (const issue of badKeys) add(issue.code, issue.at, issue.message, issue.hint)
  const traps = flowCommaTraps(doc, source, lineCounter)
  for (const trap of traps) add(trap.code, trap.at, trap.message, trap.hint)
  const trapKeys = new Set(traps.map((t) => t.keyOffset))

  const done = () => {
    issues.sort((a, b) => a.line - b.line || a.col - b.col)
    return new ContentError(issues)
  }
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount: 100 })
  } catch {
    if (hasSyntaxErrors) throw done()
    add('too_complex', start, 'too many YAML aliases (a "billion laughs" file?)', 'write the values out instead of repeating anchors')
    throw new ContentError(issues)
  }
  if (depth(data) > MAX_DEPTH) {
    add('too_complex', start, `values nest deeper than ${MAX_DEPTH} levels`)
    throw new ContentError(issues)
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    if (hasSyntaxErrors) throw done()
    add('invalid_type', position(lineCounter, doc.contents), 'an NPC file is a mapping of fields (id, name, persona, ...)')
    throw new ContentError(issues)
  }
  const addChecked: Add = (code, at, message, hint) => {
    if (checked.broken(at.line)) return
    if (hasSyntaxErrors && code === 'missing_field' && [...checked.swallowed].some((k) => message.startsWith(`missing required field "${k}"`))) return
    add(code, at, message, hint)
  }

  const parsed = npcSchema.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportZodIssue(issue, data, doc, lineCounter, addChecked, trapKeys, badKeys.length > 0)
  }
  for (const ref of checkReferences(data as Record<string, unknown>)) {
    const { node, key } = locate(doc, ref.path)
    addChecked(ref.code, position(lineCounter, ref.atKey ? key : node), ref.message, ref.hint)
  }
  if (issues.length > 0 || !parsed.success) {
    throw done()
  }
  const { $schema: _ignored, ...npc } = parsed.data
  if (npc.lore && options.readFile) {
    const sources = npc.lore.sources.map((source, i) => {
      if (source.file === undefined) return source
      const content = options.readFile!(source.file)
      if (typeof content !== 'string') {
        const { node } = locate(doc, ['lore', 'sources', i, 'file'])
        const problem = content ?? { code: 'missing_file', message: `cannot read lore file "${source.file}"`, hint: 'the path is relative to this NPC file' }
        add(problem.code, position(lineCounter, node), problem.message, problem.hint)
        return source
      }
      return { ...source, text: content }
    })
    if (issues.length > 0) throw new ContentError(issues)
    npc.lore = { ...npc.lore, sources }
  }
  return { ...npc, source: path }
}

export type Add = (code: ContentIssueCode, at: Position, message: string, hint?: string) => void

/** One zod issue as a located content issue; `schema` is the file's schema (scenario files use it too). */
export function reportZodIssue(issue: z.core.$ZodIssue, data: unknown, doc: Document, lineCounter: LineCounter, add: Add, trapKeys: ReadonlySet<number> = new Set(), badKeys = false, schema: z.ZodType = npcSchema) {
  const where = formatPath(issue.path) || 'file'
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, issue.path).filter((k) => k !== '$schema')
      for (const name of issue.keys) {
        const node = keyNode(doc, issue.path, name)
        // A flow-comma trap is reported as such; a list used as a key has no key node to point at.
        if ((node?.range && trapKeys.has(node.range[0])) || (!node && badKeys)) continue
        add('unknown_key', position(lineCounter, node), `unknown key "${name}"`, didYouMean(name, allowed))
      }
      return
    }
    case 'invalid_type': {
      const { node, key, complete } = locate(doc, issue.path)
      const field = String(issue.path.at(-1) ?? '')
      const value = valueAt(data, issue.path)
      if (!complete || value === undefined) {
        const parent = formatPath(issue.path.slice(0, -1))
        add('missing_field', position(lineCounter, node), `missing required field "${field}"${parent ? ` in ${parent}` : ''}`)
      } else {
        add('invalid_type', position(lineCounter, node ?? key), `${where}: expected ${article(issue.expected)}, got ${describe(value)}`)
      }
      return
    }
    case 'too_small': {
      const { node } = locate(doc, issue.path)
      if (issue.origin === 'string') add('empty_value', position(lineCounter, node), `${where} must not be empty`)
      else if (issue.origin === 'array') add('empty_value', position(lineCounter, node), `${where} needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}`)
      else add('invalid_value', position(lineCounter, node), `${where} must be at least ${issue.minimum}`)
      return
    }
    case 'too_big': {
      const { node } = locate(doc, issue.path)
      add('invalid_value', position(lineCounter, node), `${where} must be at most ${issue.maximum}`)
      return
    }
    case 'invalid_union': {
      const value = valueAt(data, issue.path)
      if (isConditionUnion(issue)) {
        reportCondition(issue, value, data, doc, lineCounter, add, trapKeys, badKeys)
        return
      }
      const { node } = locate(doc, issue.path)
      const hint = issue.path.at(-1) === 'given' ? 'write "given: item_id" or "given: { item: item_id, count: 2 }"' : undefined
      add('invalid_value', position(lineCounter, node), `${where}: not a valid value`, hint)
      return
    }
    case 'custom': {
      const { node } = locate(doc, issue.path)
      add('invalid_condition', position(lineCounter, node), issue.message)
      return
    }
    default: {
      const { node } = locate(doc, issue.path)
      add('invalid_value', position(lineCounter, node), `${where}: ${issue.message}`)
    }
  }
}

/** The union of one-key condition objects: one branch per key in CONDITION_KEYS. */
function isConditionUnion(issue: z.core.$ZodIssueInvalidUnion): boolean {
  return issue.errors.length === CONDITION_KEYS.length
}

/**
 * A condition that fits none of the one-key shapes. When its one key is a known one, the problem
 * is inside that branch: report that branch's issues where they are. Unknown keys are reported
 * with a did-you-mean; no key or several known keys are left to the reference checks, which say so.
 */
function reportCondition(issue: z.core.$ZodIssueInvalidUnion, value: unknown, data: unknown, doc: Document, lineCounter: LineCounter, add: Add, trapKeys: ReadonlySet<number>, badKeys: boolean) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const { node } = locate(doc, issue.path)
    add('invalid_condition', position(lineCounter, node), `${issue.path.join('.')}: a condition is a mapping with one key: ${CONDITION_KEYS.join(', ')}`)
    return
  }
  const keys = Object.keys(value)
  const unknown = keys.filter((k) => !CONDITION_KEYS.includes(k))
  for (const name of unknown) add('unknown_key', position(lineCounter, keyNode(doc, issue.path, name)), `unknown key "${name}"`, didYouMean(name, CONDITION_KEYS))
  const known = keys.filter((k) => CONDITION_KEYS.includes(k))
  if (unknown.length > 0 || known.length !== 1) return
  const branch = issue.errors[CONDITION_KEYS.indexOf(known[0]!)] ?? []
  for (const inner of branch) reportZodIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, data, doc, lineCounter, add, trapKeys, badKeys)
}

function article(type: string): string {
  const names: Record<string, string> = { int: 'an integer', number: 'a number', string: 'text', boolean: 'true or false', object: 'a mapping', array: 'a list', record: 'a mapping' }
  return names[type] ?? type
}

function describe(value: unknown): string {
  if (value === null) return 'nothing (null)'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `text "${value.length > 30 ? value.slice(0, 30) + '…' : value}"`
  return `${typeof value} ${String(value)}`
}

function flowDepth(text: string): number {
  let level = 0
  let max = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 91 || c === 123) max = Math.max(max, ++level)
    else if ((c === 93 || c === 125) && level > 0) level--
  }
  return max
}

function depth(value: unknown, level = 0): number {
  if (level > MAX_DEPTH || value === null || typeof value !== 'object') return level
  let max = level
  for (const child of Object.values(value)) max = Math.max(max, depth(child, level + 1))
  return max
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[k]
  }
  return v
}
