import { didYouMean } from './suggest.ts'
import { CONDITION_KEYS } from './schema.ts'
import type { ContentIssueCode } from './issues.ts'
import { varChecker } from './var-references.ts'
import { saidPatternHint, saidPatternProblem } from '../conditions/said-pattern.ts'

export interface ReferenceProblem {
  path: PropertyKey[]
  code: ContentIssueCode
  message: string
  hint?: string | undefined
  /** Point at the key rather than its value (for an id defined twice, say). */
  atKey?: boolean
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * Cross-references the schema cannot see: ids defined twice, conditions naming items or flags
 * that do not exist, patterns that do not compile. Runs on the raw data, defensively, so these
 * are reported in the same pass as schema errors elsewhere in the file.
 */
export function checkReferences(data: Record<string, unknown>): ReferenceProblem[] {
  const problems: ReferenceProblem[] = []
  const items = isRecord(data.items) ? Object.keys(data.items) : []
  const flags = isRecord(data.flags) ? Object.keys(data.flags) : undefined
  const vars = varChecker(data, problems)

  /** Reports a name used twice in one list, at the second use, naming the first. */
  const uniqueIn = (list: string, what: string, key: 'id' | 'name') => {
    const seen = new Map<string, number>()
    return (entry: Record<string, unknown>, i: number, path: PropertyKey[]) => {
      const value = entry[key]
      if (typeof value !== 'string') return
      const first = seen.get(value)
      if (first === undefined) seen.set(value, i)
      else problems.push({ path: [...path, i, key], code: 'duplicate_id', message: `${what} "${value}" is already used by ${list}[${first}]`, hint: `give each ${what.split(' ')[0]} its own ${key}` })
    }
  }

  const secrets = Array.isArray(data.secrets) ? data.secrets : []
  const secretNames = secrets.flatMap((s) => (isRecord(s) && typeof s.id === 'string' ? [s.id] : []))
  const secretIds = uniqueIn('secrets', 'secret id', 'id')
  secrets.forEach((secret, i) => {
    if (!isRecord(secret)) return
    secretIds(secret, i, ['secrets'])
    if ('unlock' in secret) checkCondition(secret.unlock, ['secrets', i, 'unlock'], typeof secret.id === 'string' ? secret.id : undefined)
  })
  const lore = isRecord(data.lore) && Array.isArray(data.lore.sources) ? data.lore.sources : []
  const loreIds = uniqueIn('lore.sources', 'lore id', 'id')
  lore.forEach((source, i) => {
    if (!isRecord(source)) return
    const has = (k: string) => source[k] !== undefined
    if (has('text') === has('file')) {
      problems.push({ path: ['lore', 'sources', i], code: 'invalid_value', message: 'a lore source has either "text" or "file"', hint: 'put inline lore under text:, or a Markdown file path under file:' })
    }
    loreIds(source, i, ['lore', 'sources'])
    if ('unlock' in source) checkCondition(source.unlock, ['lore', 'sources', i, 'unlock'])
  })
  if (isRecord(data.lore) && isRecord(data.lore.chunk) && typeof data.lore.chunk.window === 'number' && typeof data.lore.chunk.overlap === 'number' && data.lore.chunk.overlap >= data.lore.chunk.window) {
    problems.push({ path: ['lore', 'chunk', 'overlap'], code: 'invalid_value', message: 'the overlap must be smaller than the window' })
  }
  const actions = Array.isArray(data.actions) ? data.actions : []
  const actionNames = new Set(actions.flatMap((a) => (isRecord(a) && typeof a.name === 'string' ? [a.name] : [])))
  const uniqueActions = uniqueIn('actions', 'action', 'name')
  actions.forEach((action, i) => {
    if (!isRecord(action)) return
    uniqueActions(action, i, ['actions'])
    if ('when' in action) checkCondition(action.when, ['actions', i, 'when'])
    if (isRecord(action.effect)) vars.effect(action.effect, ['actions', i, 'effect'], typeof action.name === 'string' ? action.name : `actions[${i}]`)
    const flag = isRecord(action.effect) ? action.effect.set_flag : undefined
    if (typeof flag === 'string' && flags && !flags.includes(flag)) {
      problems.push({ path: ['actions', i, 'effect', 'set_flag'], code: 'unknown_flag', message: `unknown flag "${flag}"`, hint: didYouMean(flag, flags) ?? 'declare it under "flags:"' })
    }
  })
  const replies = isRecord(data.scripted) && Array.isArray(data.scripted.replies) ? data.scripted.replies : []
  replies.forEach((reply, i) => {
    if (isRecord(reply) && 'when' in reply) checkCondition(reply.when, ['scripted', 'replies', i, 'when'])
    const name = isRecord(reply) && isRecord(reply.action) ? reply.action.name : undefined
    if (typeof name === 'string' && !actionNames.has(name)) {
      problems.push({ path: ['scripted', 'replies', i, 'action', 'name'], code: 'unknown_action', message: `unknown action "${name}"`, hint: didYouMean(name, actionNames.keys()) ?? 'declare it under "actions:"' })
    }
  })
  return problems

  /** `owner`: the secret whose unlock this is, which must not wait for itself. */
  function checkCondition(cond: unknown, path: PropertyKey[], owner?: string): void {
    if (!isRecord(cond)) return
    const keys = Object.keys(cond)
    const known = keys.filter((k) => CONDITION_KEYS.includes(k))
    if (keys.length === 0) {
      problems.push({ path, code: 'invalid_condition', message: `a condition needs one of: ${CONDITION_KEYS.join(', ')}` })
    } else if (known.length > 1) {
      problems.push({ path, code: 'invalid_condition', message: `a condition has exactly one key, found ${known.join(', ')}`, hint: 'wrap several in "all: [...]" or "any: [...]"' })
    }
    const given = cond.given
    if (typeof given === 'string') checkItem(given, [...path, 'given'])
    else if (isRecord(given) && typeof given.item === 'string') checkItem(given.item, [...path, 'given', 'item'])
    if (typeof cond.flag === 'string' && flags && !flags.includes(cond.flag)) {
      problems.push({ path: [...path, 'flag'], code: 'unknown_flag', message: `unknown flag "${cond.flag}"`, hint: didYouMean(cond.flag, flags) ?? 'declare it under "flags:"' })
    }
    if (isRecord(cond.said) && typeof cond.said.matches === 'string') {
      // Compiled by the engine that will match it (RE2), so lint refuses exactly what play would.
      const matches = cond.said.matches
      const problem = saidPatternProblem({ matches, ignore_case: cond.said.ignore_case === false ? false : undefined })
      if (problem) problems.push({ path: [...path, 'said', 'matches'], code: 'invalid_regex', message: problem.startsWith('too complex') ? `this pattern is ${problem}` : `not a valid RE2 pattern: ${problem}`, hint: saidPatternHint(matches, problem) })
    }
    if (isRecord(cond.turns) && typeof cond.turns.gte === 'number' && typeof cond.turns.lte === 'number' && cond.turns.gte > cond.turns.lte) {
      problems.push({ path: [...path, 'turns'], code: 'invalid_condition', message: `turns: gte ${cond.turns.gte} is greater than lte ${cond.turns.lte}, so this never holds` })
    }
    if ('var' in cond) vars.condition(cond.var, [...path, 'var'], owner)
    if (typeof cond.unlocked === 'string') {
      if (!secretNames.includes(cond.unlocked)) {
        problems.push({ path: [...path, 'unlocked'], code: 'unknown_secret', message: `unknown secret "${cond.unlocked}"`, hint: didYouMean(cond.unlocked, secretNames) ?? 'name a secret id from "secrets:"' })
      } else if (cond.unlocked === owner) {
        problems.push({ path: [...path, 'unlocked'], code: 'invalid_condition', message: `secret "${owner}" waits for itself, so it never unlocks` })
      }
    }
    for (const key of ['all', 'any'] as const) {
      const list = cond[key]
      if (Array.isArray(list)) list.forEach((c, i) => checkCondition(c, [...path, key, i], owner))
    }
    if ('not' in cond) checkCondition(cond.not, [...path, 'not'], owner)
  }

  function checkItem(item: string, path: PropertyKey[]) {
    if (!items.includes(item)) {
      problems.push({ path, code: 'unknown_item', message: `unknown item "${item}"`, hint: didYouMean(item, items) ?? 'declare it under "items:"' })
    }
  }
}
