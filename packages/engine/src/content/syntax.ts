/**
 * Turns the YAML parser's errors into messages a writer can act on: the common traps (a tab, an
 * unquoted `: `, a key indented off its siblings, an unclosed bracket or quote) get a plain
 * message at the spot to fix and the fix itself, and the errors that only echo the first one in
 * the same top-level entry are dropped. Also says which parts of the file a syntax error broke,
 * so that the later checks still run on the rest.
 */
import { isMap, isPair, isScalar, visit, type Document, type LineCounter, type YAMLError } from 'yaml'
import type { ContentIssueCode } from './issues.ts'

type Position = { line: number; col: number }

export interface SyntaxIssue {
  code: ContentIssueCode
  at: Position
  message: string
  hint?: string | undefined
  /** The line as the hint would have it written: used to check the rest of the file. */
  repair?: { line: number; text: string } | undefined
}

export interface SyntaxReport {
  issues: SyntaxIssue[]
  /** True for lines in a top-level entry a syntax error broke: other checks skip them. */
  broken: (line: number) => boolean
  /** Keys written on broken lines: a "missing field" for one of them echoes the syntax error. */
  swallowed: ReadonlySet<string>
  /** Nothing the parser recovered can be trusted (tab indentation). */
  fatal: boolean
  /** The text with every fix the hints name applied, when there are any. */
  repaired?: string | undefined
}

export function syntaxReport(text: string, doc: Document, lineCounter: LineCounter): SyntaxReport {
  const lines = text.split('\n')
  const lineOf = (offset: number) => lineCounter.linePos(offset)
  const tabs = doc.errors.filter((e) => e.code === 'TAB_AS_INDENT')
  if (tabs.length > 0) {
    const tabLines = [...new Set(tabs.map((e) => lineOf(e.pos[0]).line))]
    const where = tabLines.length > 1 ? `s with spaces: lines ${tabLines.slice(0, 8).join(', ')}${tabLines.length > 8 ? ', …' : ''}` : ' with spaces'
    return {
      issues: [{ code: 'tab_indent', at: lineOf(tabs[0]!.pos[0]), message: 'a tab indents this line; YAML indents with spaces only', hint: `replace the tab${where}` }],
      broken: () => true,
      swallowed: new Set(),
      fatal: true,
    }
  }

  const issues: SyntaxIssue[] = []
  const syntax: Array<SyntaxIssue & { lastLine: number }> = []
  const errors = doc.errors
  for (const [i, error] of errors.entries()) {
    if (error.code === 'DUPLICATE_KEY') {
      issues.push(duplicateKey(doc, error, lineCounter))
      continue
    }
    // The parser reports an over-indented key twice at one spot; the second says nothing new.
    if (error.code === 'MULTILINE_IMPLICIT_KEY' && errors.some((e, j) => j < i && e.code === 'BLOCK_AS_IMPLICIT_KEY' && e.pos[0] === error.pos[0])) continue
    const issue = explain(error, errors, lines, lineOf)
    syntax.push({ ...issue, lastLine: Math.max(issue.at.line, lineOf(error.pos[1]).line) })
  }

  // Only the first syntax error in each top-level entry: the rest are usually its echoes.
  const starts = sectionStarts(lines)
  const sectionOf = (line: number) => starts.findLast((s) => s <= line) ?? 1
  const brokenSections = new Set<number>()
  const repairs = new Map(syntax.flatMap((i) => (i.repair ? [[i.repair.line, i.repair.text] as const] : [])))
  const repaired = repairs.size ? lines.map((line, i) => repairs.get(i + 1) ?? line).join('\n') : undefined
  for (const { lastLine, repair: _repair, ...issue } of syntax) {
    const section = sectionOf(issue.at.line)
    if (brokenSections.has(section)) continue
    // An error can span entries (an unclosed quote runs on): every entry it touches is broken.
    for (const s of starts) if (s > section && s <= lastLine) brokenSections.add(s)
    brokenSections.add(section)
    issues.push(issue)
  }
  const swallowed = new Set<string>()
  lines.forEach((line, i) => {
    if (!brokenSections.has(sectionOf(i + 1))) return
    const key = /^\s*(?:-\s+)?([A-Za-z_$][\w$-]*)\s*:/.exec(line)?.[1]
    if (key) swallowed.add(key)
    for (const m of line.matchAll(/\b([A-Za-z_][\w-]*)\s*:\s/g)) swallowed.add(m[1]!)
  })
  return { issues, broken: (line) => brokenSections.has(sectionOf(line)), swallowed, fatal: false, repaired }
}

function explain(error: YAMLError, all: readonly YAMLError[], lines: string[], lineOf: (offset: number) => Position): SyntaxIssue {
  const at = lineOf(error.pos[0])
  const plain = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
  if (error.code === 'BLOCK_AS_IMPLICIT_KEY') {
    const overIndented = all.some((e) => e.code === 'MULTILINE_IMPLICIT_KEY' && e.pos[0] === error.pos[0])
    if (overIndented) {
      const next = nextContentLine(lines, at.line)
      const above = keyAt(lines[at.line - 1] ?? '')
      const below = next === undefined ? undefined : keyAt(lines[next - 1]!)
      if (above && below && next !== undefined) {
        const moved = ' '.repeat(above.col - 1) + lines[next - 1]!.trimStart()
        return { code: 'bad_indent', at: { line: next, col: below.col }, message: `"${below.key}" is indented more than "${above.key}" above it`, hint: `line it up with "${above.key}" in column ${above.col}, or indent it under a key that ends with ":"`, repair: { line: next, text: moved } }
      }
    }
    const line = lines[at.line - 1] ?? ''
    const value = line.slice(at.col - 1).trim()
    const key = keyAt(line)
    const written = key && key.col < at.col ? `${key.key}: ${quote(value)}` : quote(value)
    return { code: 'unquoted_text', at, message: 'this text contains ": ", which YAML reads as the start of a new key: quote this text', hint: `write ${written}`, repair: { line: at.line, text: line.slice(0, at.col - 1) + quote(value) } }
  }
  if (error.code === 'BLOCK_IN_FLOW') {
    // `{ nudge: a: b }`: inside brackets the text runs to the next comma or closing bracket.
    const line = lines[at.line - 1] ?? ''
    const rest = line.slice(at.col - 1)
    const value = rest.slice(0, rest.search(/[,}\]]|$/)).trim()
    const key = /([^\s{[,:]+)\s*:\s*$/.exec(line.slice(0, at.col - 1))?.[1]
    if (value.includes(': ')) {
      const fixed = line.slice(0, at.col - 1) + quote(value) + rest.slice(rest.indexOf(value) + value.length)
      return { code: 'unquoted_text', at, message: 'this text contains ": ", which YAML reads as the start of a new key: quote this text', hint: `write ${key ? `${key}: ` : ''}${quote(value)}`, repair: { line: at.line, text: fixed } }
    }
  }
  if (error.code === 'BAD_INDENT' && /^Flow (sequence|map) in block collection/.test(plain)) {
    const bracket = plain.startsWith('Flow map') ? '{' : '['
    const close = bracket === '{' ? '}' : ']'
    const open = unclosedBracket(lines, error.pos[0], lineOf, bracket)
    return { code: 'unclosed_bracket', at: open ?? at, message: `this ${bracket} is never closed`, hint: `end it with ${close} on the same line, or indent the lines that continue it` }
  }
  if (error.code === 'MISSING_CHAR' && /^Missing closing .?quote/.test(plain)) {
    const mark = plain.includes("'") ? "'" : '"'
    // The parser notices at the end of the file; the writer needs the quote that opened it.
    const opening = lines.join('\n').lastIndexOf(mark, error.pos[0] - 1)
    return { code: 'yaml_syntax', at: opening >= 0 ? lineOf(opening) : at, message: `this quoted text has no closing ${mark}`, hint: `end it with ${mark}; a quote inside it is written ${mark === '"' ? '\\"' : "''"}` }
  }
  if ((error.code === 'BAD_INDENT' && plain.startsWith('All mapping items must start at the same column')) || (error.code === 'MISSING_CHAR' && plain.startsWith('Sequence item without - indicator'))) {
    const here = keyAt(lines[at.line - 1] ?? '')
    const previous = previousContentLine(lines, at.line)
    const above = previous === undefined ? undefined : keyAt(lines[previous - 1]!)
    if (here && above) {
      return { code: 'bad_indent', at: { line: at.line, col: here.col }, message: `"${here.key}" is not lined up with "${above.key}" above it`, hint: `keys of one mapping start in the same column: move it to column ${above.col}` }
    }
  }
  return { code: 'yaml_syntax', at, message: plain }
}

function duplicateKey(doc: Document, error: YAMLError, lineCounter: LineCounter): SyntaxIssue {
  const at = lineCounter.linePos(error.pos[0])
  let found: { name: string; first: Position } | undefined
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, number>()
      for (const pair of map.items) {
        if (!isPair(pair) || !isScalar(pair.key) || !pair.key.range) continue
        const name = String(pair.key.value)
        const first = seen.get(name)
        if (first !== undefined && pair.key.range[0] === error.pos[0]) {
          found = { name, first: lineCounter.linePos(first) }
          return visit.BREAK
        }
        if (first === undefined) seen.set(name, pair.key.range[0])
      }
      return undefined
    },
  })
  if (!found) return { code: 'duplicate_key', at, message: 'duplicate key', hint: 'each key may appear once in a mapping; remove or rename one' }
  return { code: 'duplicate_key', at, message: `duplicate key "${found.name}": it is already set on line ${found.first.line}`, hint: 'each key may appear once in a mapping; remove or rename one' }
}

/** Keys written as `[a, b]` or `{ a: 1 }`: JavaScript objects cannot hold them. */
export function collectionKeys(doc: Document, lineCounter: LineCounter): SyntaxIssue[] {
  const out: SyntaxIssue[] = []
  visit(doc, {
    Pair(_, pair) {
      if (pair.key && !isScalar(pair.key) && (pair.key as { range?: [number, number, number] }).range) {
        const kind = isMap(pair.key) ? 'a mapping' : 'a list'
        out.push({ code: 'invalid_key', at: lineCounter.linePos((pair.key as { range: [number, number, number] }).range[0]), message: `a key must be plain text, not ${kind}`, hint: 'quote it if the brackets are part of the text' })
      }
    },
  })
  return out
}

function quote(value: string): string {
  return value.includes('"') && !value.includes("'") ? `'${value}'` : JSON.stringify(value)
}

function keyAt(line: string): { key: string; col: number } | undefined {
  const m = /^(\s*(?:-\s+)?)([^\s:#][^:#]*?)\s*:(\s|$)/.exec(line)
  return m ? { key: m[2]!, col: m[1]!.length + 1 } : undefined
}

const isContent = (line: string | undefined) => line !== undefined && line.trim() !== '' && !line.trim().startsWith('#')

function nextContentLine(lines: string[], line: number): number | undefined {
  for (let i = line; i < lines.length; i++) if (isContent(lines[i])) return i + 1
  return undefined
}

function previousContentLine(lines: string[], line: number): number | undefined {
  for (let i = line - 2; i >= 0; i--) if (isContent(lines[i])) return i + 1
  return undefined
}

/** First line of each top-level entry: lines that start in column 1 with a key. */
function sectionStarts(lines: string[]): number[] {
  const starts: number[] = []
  lines.forEach((line, i) => {
    if (/^[^\s#-]/.test(line)) starts.push(i + 1)
  })
  return starts
}

/** The bracket a "never closed" error is about: the last one before `offset` left open. */
function unclosedBracket(lines: string[], offset: number, lineOf: (offset: number) => Position, bracket: '[' | '{'): Position | undefined {
  const text = lines.join('\n').slice(0, offset)
  const close = bracket === '[' ? ']' : '}'
  let depth = 0
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i]
    if (c === close) depth++
    else if (c === bracket) {
      if (depth === 0) return lineOf(i)
      depth--
    }
  }
  return undefined
}

export interface FlowCommaTrap extends SyntaxIssue {
  /** Where the text after the comma landed as a key: the unknown-key report for it is an echo. */
  keyOffset: number
}

/**
 * `{ description: A chip, good for one meal. }` is valid YAML: the comma ends the text and
 * "good for one meal." becomes a key with no value. Found by shape, before the schema calls it an
 * unknown key.
 */
export function flowCommaTraps(doc: Document, text: string, lineCounter: LineCounter): FlowCommaTrap[] {
  const out: FlowCommaTrap[] = []
  visit(doc, {
    Map(_, map) {
      if (!map.flow) return
      map.items.forEach((pair, i) => {
        const before = map.items[i - 1]
        if (!before || pair.value !== null || !isScalar(pair.key) || pair.key.type !== 'PLAIN' || !pair.key.range) return
        const value = before.value
        if (!isScalar(value) || value.type !== 'PLAIN' || typeof value.value !== 'string' || !value.range || !isScalar(before.key)) return
        const whole = text.slice(value.range[0], pair.key.range[1]).replace(/\s+/g, ' ').trim()
        out.push({
          code: 'unquoted_text',
          at: lineCounter.linePos(value.range[0]),
          message: `a comma inside { } ends this text, so "${String(pair.key.value)}" became a key: quote this text`,
          hint: `write ${String(before.key.value)}: ${quote(whole)}`,
          keyOffset: pair.key.range[0],
        })
      })
    },
  })
  return out
}
