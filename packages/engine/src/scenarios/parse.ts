/**
 * Reads a scenario file through the content pipeline: YAML with positions, the zod schema, then
 * checks against the NPC it tests (secret, item, flag and action names). Every problem is a
 * ContentIssue at `file:line:col`, the same form as `parley lint`.
 */
import { LineCounter, parseDocument, type Document } from 'yaml'
import type { Npc } from '../content/schema.ts'
import { ContentError, type ContentIssue, type ContentIssueCode } from '../content/issues.ts'
import { MAX_FILE_BYTES, reportZodIssue } from '../content/parse.ts'
import { locate, position } from '../content/positions.ts'
import { didYouMean } from '../content/suggest.ts'
import { syntaxReport } from '../content/syntax.ts'
import { scenarioFileSchema, STEP_KINDS, type ScenarioFile } from './schema.ts'

export interface ParsedScenarios {
  path: string
  file: ScenarioFile
  /** Where a part of the file is, for reports: a key's own position when `atKey`, else its value's. */
  at(path: readonly PropertyKey[], atKey?: boolean): { line: number; col: number }
}

type Position = { line: number; col: number }

export function parseScenarios(text: string, path: string): ParsedScenarios {
  const issues: ContentIssue[] = []
  const add = (code: ContentIssueCode, at: Position, message: string, hint?: string) => {
    if (issues.length < 100) issues.push({ path, line: at.line, col: at.col, code, message, hint })
  }
  if (text.length > MAX_FILE_BYTES) {
    add('too_large', { line: 1, col: 1 }, `file is ${text.length} characters; scenario files are limited to ${MAX_FILE_BYTES}`)
    throw new ContentError(issues)
  }
  const lineCounter = new LineCounter()
  // The NPC files' syntax stage: the same plain messages and fixes for tabs, unquoted `: `,
  // keys off their siblings' indentation, unclosed brackets and duplicate keys.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, logLevel: 'error' })
  for (const issue of syntaxReport(text, doc, lineCounter).issues) add(issue.code, issue.at, issue.message, issue.hint)
  if (issues.length) throw new ContentError(issues)
  let data: unknown
  try {
    data = doc.toJS({ maxAliasCount: 100 })
  } catch {
    add('too_complex', { line: 1, col: 1 }, 'too many YAML aliases')
    throw new ContentError(issues)
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    add('invalid_type', position(lineCounter, doc.contents), 'a scenario file is a mapping with "scenarios:" (and optionally "npc:")')
    throw new ContentError(issues)
  }
  const parsed = scenarioFileSchema.safeParse(data)
  if (!parsed.success) for (const issue of parsed.error.issues) reportZodIssue(issue, data, doc, lineCounter, add, new Set(), false, scenarioFileSchema)
  if (parsed.success) checkSteps(parsed.data, doc, lineCounter, add)
  if (issues.length) {
    issues.sort((a, b) => a.line - b.line || a.col - b.col)
    throw new ContentError(issues)
  }
  return { path, file: parsed.data!, at: (p, atKey) => where(doc, lineCounter, p, atKey) }
}

function where(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[], atKey?: boolean): Position {
  const { node, key } = locate(doc, path)
  return position(lineCounter, atKey && key ? key : node)
}

/** One thing happens per step; a restore names a save made earlier in the same scenario. */
function checkSteps(file: ScenarioFile, doc: Document, lineCounter: LineCounter, add: (code: ContentIssueCode, at: Position, message: string, hint?: string) => void) {
  file.scenarios.forEach((scenario, s) => {
    const saves = new Set<string>()
    scenario.steps.forEach((step, i) => {
      const path = ['scenarios', s, 'steps', i]
      const kinds = STEP_KINDS.filter((k) => step[k] !== undefined)
      if (kinds.length > 1) add('invalid_value', where(doc, lineCounter, path), `a step does one thing, found ${kinds.join(', ')}`, 'split it into two steps')
      if (kinds.length === 0 && !step.expect) add('invalid_value', where(doc, lineCounter, path), `a step needs one of: ${STEP_KINDS.join(', ')} (or only expect:)`)
      if (step.refuse !== undefined && step.say === undefined) add('invalid_value', where(doc, lineCounter, [...path, 'refuse'], true), 'refuse: applies to the actions of a say: step')
      if (step.save) saves.add(step.save)
      if (typeof step.restore === 'string' && !saves.has(step.restore)) {
        add('invalid_value', where(doc, lineCounter, [...path, 'restore']), `no save "${step.restore}" before this step`, didYouMean(step.restore, saves) ?? 'add a step "save: NAME" earlier in this scenario')
      }
    })
  })
}

/** `unlocked: a` and `unlocked: [a, b]` read alike. */
export const asList = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...v] : [v as T])

/** Names the scenarios use that the NPC does not have: each at its place, with a did-you-mean. */
export function checkAgainstNpc(parsed: ParsedScenarios, npc: Npc): ContentIssue[] {
  const issues: ContentIssue[] = []
  const secrets = npc.secrets.map((x) => x.id)
  const items = Object.keys(npc.items)
  const flags = npc.flags ? Object.keys(npc.flags) : undefined
  const actions = npc.actions.map((a) => a.name)
  const vars = Object.keys(npc.vars)
  const check = (name: string, known: readonly string[] | undefined, what: string, code: ContentIssueCode, path: PropertyKey[]) => {
    if (!known || known.includes(name)) return
    const at = parsed.at(path)
    issues.push({ path: parsed.path, ...at, code, message: `${npc.id} has no ${what} "${name}"`, hint: didYouMean(name, known) ?? `known: ${known.join(', ') || 'none'}` })
  }
  const each = (value: string | readonly string[] | undefined, path: PropertyKey[], fn: (name: string, path: PropertyKey[]) => void) => {
    if (Array.isArray(value)) value.forEach((v, i) => fn(v, [...path, i]))
    else if (typeof value === 'string') fn(value, path)
  }
  parsed.file.scenarios.forEach((scenario, s) => {
    scenario.steps.forEach((step, i) => {
      const path = ['scenarios', s, 'steps', i]
      if (step.give !== undefined) {
        if (typeof step.give === 'string') check(step.give, items, 'item', 'unknown_item', [...path, 'give'])
        else check(step.give.item, items, 'item', 'unknown_item', [...path, 'give', 'item'])
      }
      if (step.flag !== undefined) {
        if (typeof step.flag === 'string') check(step.flag, flags, 'flag', 'unknown_flag', [...path, 'flag'])
        else check(step.flag.name, flags, 'flag', 'unknown_flag', [...path, 'flag', 'name'])
      }
      for (const v of Object.keys(step.var ?? {})) check(v, vars, 'variable', 'unknown_var', [...path, 'var', v])
      each(step.refuse, [...path, 'refuse'], (n, p) => check(n, actions, 'action', 'unknown_action', p))
      const e = step.expect
      if (!e) return
      const ex = [...path, 'expect']
      each(e.unlocked, [...ex, 'unlocked'], (n, p) => check(n, secrets, 'secret', 'unknown_secret', p))
      each(e.locked, [...ex, 'locked'], (n, p) => check(n, secrets, 'secret', 'unknown_secret', p))
      each(e.did, [...ex, 'did'], (n, p) => check(n, actions, 'action', 'unknown_action', p))
      each(e.refused, [...ex, 'refused'], (n, p) => check(n, actions, 'action', 'unknown_action', p))
      for (const f of Object.keys(e.flags ?? {})) check(f, flags, 'flag', 'unknown_flag', [...ex, 'flags', f])
      for (const v of Object.keys(e.vars ?? {})) check(v, vars, 'variable', 'unknown_var', [...ex, 'vars', v])
    })
  })
  return issues
}
