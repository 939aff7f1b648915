/**
 * Lint for variables, on the raw data like the other reference checks: declarations whose
 * default, bounds or descriptions cannot be, conditions naming unknown variables or comparing
 * the wrong kind or past the bounds, effects changing what they may not, and the trust rule: a
 * secret's unlock reads only variables the game owns, never ones the model's actions move.
 */
import { didYouMean } from './suggest.ts'
import type { ReferenceProblem } from './references.ts'

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

interface Decl {
  kind: 'number' | 'word'
  min?: number | undefined
  max?: number | undefined
  words: string[]
  owner: string
}

export interface VarChecker {
  /** A `var:` condition at `path`; `secret` is set inside a secret's unlock. */
  condition(value: unknown, path: PropertyKey[], secret?: string): void
  /** An action's `effect` at `path`. */
  effect(effect: Record<string, unknown>, path: PropertyKey[], action: string): void
}

export function varChecker(data: Record<string, unknown>, problems: ReferenceProblem[]): VarChecker {
  const decls = new Map<string, Decl>()
  const raw = isRecord(data.vars) ? data.vars : {}
  for (const [name, d] of Object.entries(raw)) {
    if (!isRecord(d)) continue
    const words = Array.isArray(d.one_of) ? d.one_of.filter((w): w is string => typeof w === 'string') : []
    const decl: Decl = { kind: 'one_of' in d ? 'word' : 'number', min: num(d.min), max: num(d.max), words, owner: d.owner === 'npc' ? 'npc' : 'game' }
    decls.set(name, decl)
    checkDeclaration(name, d, decl)
  }
  const names = [...decls.keys()]

  function checkDeclaration(name: string, d: Record<string, unknown>, decl: Decl) {
    const at = ['vars', name]
    if (decl.kind === 'number') {
      if (decl.min !== undefined && decl.max !== undefined && decl.min > decl.max) {
        problems.push({ path: [...at, 'min'], code: 'invalid_var', message: `${name}: min ${decl.min} is greater than max ${decl.max}` })
        return
      }
      const def = num(d.default)
      if (def !== undefined && outside(decl, def)) problems.push({ path: [...at, 'default'], code: 'invalid_var', message: `${name}: the default ${def} is outside its bounds ${bounds(decl)}` })
      if (Array.isArray(d.describe)) {
        d.describe.forEach((entry, i) => {
          if (!isRecord(entry)) return
          const gte = num(entry.gte)
          const lte = num(entry.lte)
          const never = (gte !== undefined && lte !== undefined && gte > lte) || (gte !== undefined && decl.max !== undefined && gte > decl.max) || (lte !== undefined && decl.min !== undefined && lte < decl.min)
          if (never) problems.push({ path: [...at, 'describe', i], code: 'invalid_var', message: `${name}: this description's range never meets the bounds ${bounds(decl)}, so it is never told` })
        })
      }
    } else {
      if (typeof d.default === 'string' && !decl.words.includes(d.default)) {
        problems.push({ path: [...at, 'default'], code: 'invalid_var', message: `${name}: the default "${d.default}" is not one of its words`, hint: didYouMean(d.default, decl.words) })
      }
      if (isRecord(d.describe)) {
        for (const word of Object.keys(d.describe)) {
          if (!decl.words.includes(word)) problems.push({ path: [...at, 'describe', word], atKey: true, code: 'invalid_var', message: `${name}: "${word}" is not one of its words`, hint: didYouMean(word, decl.words) })
        }
      }
    }
  }

  function lookup(name: string, path: PropertyKey[]): Decl | undefined {
    const decl = Object.hasOwn(raw, name) ? decls.get(name) : undefined
    if (!decl) problems.push({ path, atKey: true, code: 'unknown_var', message: `unknown variable "${name}"`, hint: didYouMean(name, names) ?? 'declare it under "vars:"' })
    return decl
  }

  return {
    condition(value, path, secret) {
      if (!isRecord(value)) return
      for (const [name, test] of Object.entries(value)) {
        const at = [...path, name]
        const decl = lookup(name, at)
        if (!decl) continue
        if (secret !== undefined && decl.owner !== 'game') {
          problems.push({ path: at, atKey: true, code: 'var_owner', message: `secret "${secret}" reads "${name}", which the NPC's actions change (owner: npc); a secret's unlock may only read variables owned by the game`, hint: 'set "owner: game" and have the game change it (setVar, the game\'s HTTP route), or let this variable colour the manner only' })
        }
        if (decl.kind === 'word') {
          if (typeof test !== 'string') problems.push({ path: at, code: 'invalid_var', message: `"${name}" holds a word (${decl.words.join(', ')}); compare it as { ${name}: ${decl.words[0] ?? 'word'} }` })
          else if (!decl.words.includes(test)) problems.push({ path: at, code: 'invalid_var', message: `"${test}" is not one of ${name}'s words, so this never holds`, hint: didYouMean(test, decl.words) })
          continue
        }
        if (!isRecord(test)) {
          problems.push({ path: at, code: 'invalid_var', message: `"${name}" is a number; compare it with gte, lte, gt, lt or eq, as { ${name}: { gte: 1 } }` })
          continue
        }
        for (const [op, v] of Object.entries(test)) {
          const n = num(v)
          if (n === undefined) continue
          const never =
            ((op === 'gte' || op === 'eq') && decl.max !== undefined && n > decl.max) ||
            (op === 'gt' && decl.max !== undefined && n >= decl.max) ||
            ((op === 'lte' || op === 'eq') && decl.min !== undefined && n < decl.min) ||
            (op === 'lt' && decl.min !== undefined && n <= decl.min)
          if (never) problems.push({ path: [...at, op], code: 'invalid_var', message: `${name} ${op} ${n} never holds: ${name} stays within ${bounds(decl)}` })
        }
      }
    },
    effect(effect, path, action) {
      for (const kind of ['add', 'set'] as const) {
        const changes = effect[kind]
        if (!isRecord(changes)) continue
        for (const [name, value] of Object.entries(changes)) {
          const at = [...path, kind, name]
          const decl = lookup(name, at)
          if (!decl) continue
          if (decl.owner !== 'npc') {
            problems.push({ path: at, atKey: true, code: 'var_owner', message: `action "${action}" changes "${name}", which only the game may change`, hint: `declare "${name}" with "owner: npc" to let the NPC's actions change it, or change it from the game` })
          }
          if (kind === 'add') {
            if (decl.kind === 'word') problems.push({ path: at, code: 'invalid_var', message: `"${name}" holds a word; use set: { ${name}: ${decl.words[0] ?? 'word'} }` })
          } else if (decl.kind === 'word') {
            if (typeof value !== 'string' || !decl.words.includes(value)) problems.push({ path: at, code: 'invalid_var', message: `${name} is one of ${decl.words.join(', ')}, not ${JSON.stringify(value)}`, hint: typeof value === 'string' ? didYouMean(value, decl.words) : undefined })
          } else if (typeof value !== 'number') {
            problems.push({ path: at, code: 'invalid_var', message: `"${name}" is a number, not ${JSON.stringify(value)}` })
          } else if (outside(decl, value)) {
            problems.push({ path: at, code: 'invalid_var', message: `${name} stays within ${bounds(decl)}; ${value} is outside` })
          }
        }
      }
    },
  }
}

const outside = (d: Decl, n: number) => (d.min !== undefined && n < d.min) || (d.max !== undefined && n > d.max)
const bounds = (d: Decl) => `${d.min ?? '-∞'}..${d.max ?? '∞'}`
