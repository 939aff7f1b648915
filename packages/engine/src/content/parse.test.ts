import { describe, expect, it } from 'vitest'
import { parseNpc } from './parse.ts'
import { ContentError, formatIssue, type ContentIssue } from './issues.ts'

const valid = `id: guard
name: Gate Guard
persona: You guard the gate.
lines: { nudge: Well?, fallback: Eh?, farewell: Move along. }
items:
  coin: { name: coin }
  pass: { name: gate pass }
secrets:
  - id: password
    fact: The password is "swordfish".
    unlock: { given: pass }
`

function issuesOf(text: string): ContentIssue[] {
  try {
    parseNpc(text, 'npc.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(ContentError)
    return [...(error as ContentError).issues]
  }
  throw new Error('expected a ContentError')
}

const at = (i: ContentIssue) => ({ line: i.line, col: i.col, code: i.code })

describe('parseNpc', () => {
  it('returns a typed NPC with defaults filled in', () => {
    const npc = parseNpc(valid, 'guard.yaml')
    expect(npc).toMatchObject({ id: 'guard', source: 'guard.yaml', model: { name: 'glm-4-flash' }, max_failures: 3, history: { max_tokens: 2000 }, exit_phrases: [] })
    expect(npc.secrets[0]!.unlock).toEqual({ given: 'pass' })
  })

  it('reports an unknown key at the key itself, with a did-you-mean', () => {
    const [issue] = issuesOf(valid.replace('persona:', 'persona: x\npersonna:'))
    expect(at(issue!)).toEqual({ line: 4, col: 1, code: 'unknown_key' })
    expect(issue!.message).toBe('unknown key "personna"')
    expect(issue!.hint).toBe('did you mean "persona"?')
  })

  it('reports a misspelled key inside a condition with the keys a condition takes', () => {
    const [issue] = issuesOf(valid.replace('unlock: { given: pass }', 'unlock: { gven: pass }'))
    expect(at(issue!)).toEqual({ line: 11, col: 15, code: 'unknown_key' })
    expect(issue!.hint).toBe('did you mean "given"?')
  })

  it('reports a duplicate key at the second occurrence', () => {
    const issues = issuesOf(valid + 'name: Again\n')
    expect(issues.map(at)).toEqual([{ line: 12, col: 1, code: 'duplicate_key' }])
  })

  it('reports a duplicate secret id at the second secret\'s id', () => {
    const issues = issuesOf(valid + '  - id: password\n    fact: Another.\n    unlock: { given: coin }\n')
    expect(issues.map(at)).toEqual([{ line: 12, col: 9, code: 'duplicate_id' }])
    expect(issues[0]!.message).toBe('secret id "password" is already used by secrets[0]')
  })

  it('reports a condition naming an unknown item at the item, with a did-you-mean', () => {
    const [issue] = issuesOf(valid.replace('{ given: pass }', '{ given: { item: passs, count: 2 } }'))
    expect(at(issue!)).toEqual({ line: 11, col: 30, code: 'unknown_item' })
    expect(issue!.hint).toBe('did you mean "pass"?')
  })

  it('reports an unknown flag when flags are declared', () => {
    const text = valid.replace('{ given: pass }', '{ any: [ { given: pass }, { flag: knigted } ] }') + 'flags:\n  knighted: { note: The player is a knight. }\n'
    const [issue] = issuesOf(text)
    expect(at(issue!)).toEqual({ line: 11, col: 47, code: 'unknown_flag' })
    expect(issue!.hint).toBe('did you mean "knighted"?')
  })

  it('reports an invalid said regex at the pattern', () => {
    const [issue] = issuesOf(valid.replace('{ given: pass }', '{ said: { matches: "open (sesame" } }'))
    expect(at(issue!)).toEqual({ line: 11, col: 32, code: 'invalid_regex' })
    expect(issue!.message).toBe('not a valid RE2 pattern: missing closing ): `open (sesame`')
  })

  it('reports an empty persona at its value', () => {
    const [issue] = issuesOf(valid.replace('persona: You guard the gate.', 'persona: "   "'))
    expect(at(issue!)).toEqual({ line: 3, col: 10, code: 'empty_value' })
    expect(issue!.message).toBe('persona must not be empty')
  })

  it('reports a wrong type at the value, saying what it got', () => {
    const [issue] = issuesOf(valid.replace('name: Gate Guard', 'name: Gate Guard\nmax_failures: many'))
    expect(at(issue!)).toEqual({ line: 3, col: 15, code: 'invalid_type' })
    expect(issue!.message).toBe('max_failures: expected a number, got text "many"')
  })

  it('reports a missing field at the mapping that lacks it', () => {
    const [issue] = issuesOf(valid.replace('    fact: The password is "swordfish".\n', ''))
    expect(at(issue!)).toEqual({ line: 9, col: 5, code: 'missing_field' })
    expect(issue!.message).toBe('missing required field "fact" in secrets[0]')
  })

  it('reports a condition with two keys', () => {
    const [issue] = issuesOf(valid.replace('{ given: pass }', '{ given: pass, flag: knight }'))
    expect(at(issue!)).toEqual({ line: 11, col: 13, code: 'invalid_condition' })
    expect(issue!.message).toBe('a condition has exactly one key, found given, flag')
    expect(issue!.hint).toBe('wrap several in "all: [...]" or "any: [...]"')
  })

  it('reports YAML syntax errors at their position, and still lists the other problems', () => {
    const issues = issuesOf('id: x\nname: [unclosed\npersona: y\n')
    expect(issues.map(formatIssue)).toEqual([
      'npc.yaml:1:1: missing required field "lines"',
      'npc.yaml:2:7: this [ is never closed (end it with ] on the same line, or indent the lines that continue it)',
    ])
  })

  it('reports all problems in a file at once, in file order, one line each', () => {
    const text = valid
      .replace('name: Gate Guard', 'name: Gate Guard\nmax_failures: -1')
      .replace('persona: You guard the gate.', 'persona: You guard the gate.\ngreting: Halt!')
      .replace('{ given: pass }', '{ given: sword }')
    const issues = issuesOf(text)
    expect(issues.map(formatIssue)).toEqual([
      'npc.yaml:3:15: max_failures must be at least 1',
      'npc.yaml:5:1: unknown key "greting" (did you mean "greeting"?)',
      'npc.yaml:13:22: unknown item "sword" (expected one of: coin, pass)',
    ])
  })

  it('refuses binary junk, a 10 MB file, an alias bomb and deep nesting with a clear error', () => {
    const junk = issuesOf('\u0000\u0001\u0002PNG\u0000garbage')
    expect(junk.map((i) => i.code)).toEqual(['not_text'])
    const huge = issuesOf('persona: ' + 'x'.repeat(10 * 1024 * 1024))
    expect(huge.map((i) => i.code)).toEqual(['too_large'])
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill('*' + 'abcdefgh'[i]).join(',')}]`)].join('\n')
    expect(issuesOf(bomb).map((i) => i.code)).toEqual(['too_complex'])
    expect(issuesOf('['.repeat(100_000)).map((i) => i.code)).toEqual(['too_complex'])
    const indented = Array.from({ length: 200 }, (_, i) => ' '.repeat(i) + 'a:').join('\n') + ' 1'
    expect(issuesOf(indented).map((i) => i.code)).toEqual(['too_complex'])
  })

  it('refuses a file that is not a mapping', () => {
    expect(issuesOf('- just\n- a list\n').map(at)).toEqual([{ line: 1, col: 1, code: 'invalid_type' }])
  })

  it('checks actions: duplicate names, unknown actions in scripted replies, conditions and flags', () => {
    const text = valid + `actions:
  - name: open_gate
    description: Opens the gate.
    when: { given: passs }
  - name: open_gate
    description: Again.
scripted:
  default: Halt.
  replies:
    - say: Fine.
      action: { name: open_gat }
`
    expect(issuesOf(text).map((i) => `${i.line}:${i.col}:${i.code}:${i.message}${i.hint ? ` (${i.hint})` : ''}`)).toEqual([
      '15:20:unknown_item:unknown item "passs" (did you mean "pass"?)',
      '16:11:duplicate_id:action "open_gate" is already used by actions[0] (give each action its own name)',
      '22:23:unknown_action:unknown action "open_gat" (did you mean "open_gate"?)',
    ])
  })
})
