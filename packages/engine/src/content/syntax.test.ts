import { describe, expect, it, vi } from 'vitest'
import { parseNpc } from './parse.ts'
import { ContentError, formatIssue } from './issues.ts'

// A small, valid NPC; each test breaks it the way a writer would.
const valid = `id: vendor
name: Noodle Vendor
persona: You sell noodles under the monorail.
lines:
  nudge: Hungry?
  fallback: Eh, say again?
  farewell: Come back hungry.
items:
  ration_chip: { name: Ration chip, description: Good for one meal }
secrets:
  - id: recipe
    fact: The broth is mostly synth-regret.
    unlock: { given: ration_chip }
scripted:
  replies:
    - keywords: [broth]
      say: Secret recipe.
  default: Noodles?
`

function problems(text: string): string[] {
  try {
    parseNpc(text, 'vendor.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(ContentError)
    return (error as ContentError).issues.map(formatIssue)
  }
  throw new Error('expected a ContentError')
}

describe('YAML traps get a message a writer can act on', () => {
  it('the fixture is valid', () => {
    expect(parseNpc(valid, 'vendor.yaml').id).toBe('vendor')
  })

  it('a comma in unquoted text inside { } says to quote the text, at the text', () => {
    expect(problems(valid.replace('description: Good for one meal', 'description: A chip, good for one meal.'))).toEqual([
      'vendor.yaml:9:50: a comma inside { } ends this text, so "good for one meal." became a key: quote this text (write description: "A chip, good for one meal.")',
    ])
  })

  it('": " in unquoted text says to quote the text, not "nested mappings"', () => {
    expect(problems(valid.replace('say: Secret recipe.', 'say: synth-regret: all the same'))).toEqual([
      'vendor.yaml:17:12: this text contains ": ", which YAML reads as the start of a new key: quote this text (write say: "synth-regret: all the same")',
    ])
  })

  it('": " in unquoted text inside { } says to quote the text too', () => {
    expect(problems(valid.replace('description: Good for one meal', 'description: Note: one meal'))).toEqual([
      'vendor.yaml:9:50: this text contains ": ", which YAML reads as the start of a new key: quote this text (write description: "Note: one meal")',
    ])
  })

  it('a ": " early in the file hides nothing after it: the rest is checked as the hint would write it', () => {
    const text = valid
      .replace('persona: You sell noodles under the monorail.', 'persona: You sell noodles: cheap ones.')
      .replace('  nudge: Hungry?', '  nudge: Hungry?\n  nudge_again: Well?')
      .replace('{ given: ration_chip }', '{ given: ration_chips }')
    expect(problems(text)).toEqual([
      'vendor.yaml:3:10: this text contains ": ", which YAML reads as the start of a new key: quote this text (write persona: "You sell noodles: cheap ones.")',
      'vendor.yaml:6:3: unknown key "nudge_again" (expected one of: nudge, fallback, farewell, welcome_back)',
      'vendor.yaml:14:22: unknown item "ration_chips" (did you mean "ration_chip"?)',
    ])
  })

  it('one tab gives one error with the fix, however many lines it breaks', () => {
    expect(problems(valid.replace('    fact: The broth', '\tfact: The broth'))).toEqual([
      'vendor.yaml:12:1: a tab indents this line; YAML indents with spaces only (replace the tab with spaces)',
    ])
    expect(problems(valid.replace('  nudge:', '\tnudge:').replace('  fallback:', '\tfallback:'))).toEqual([
      'vendor.yaml:5:1: a tab indents this line; YAML indents with spaces only (replace the tabs with spaces: lines 5, 6)',
    ])
  })

  it('an over-indented key is reported at its own line and column', () => {
    expect(problems(valid.replace('  fallback:', '    fallback:'))).toEqual([
      'vendor.yaml:6:5: "fallback" is indented more than "nudge" above it (line it up with "nudge" in column 3, or indent it under a key that ends with ":")',
    ])
  })

  it('an under-indented key is reported at its own line and column, once', () => {
    expect(problems(valid.replace('    fact: The broth', '   fact: The broth'))).toEqual([
      'vendor.yaml:12:4: "fact" is not lined up with "id" above it (keys of one mapping start in the same column: move it to column 5)',
    ])
  })

  it('an unclosed bracket and an unclosed quote point at where they open', () => {
    expect(problems(valid.replace('keywords: [broth]', 'keywords: [broth'))).toEqual([
      'vendor.yaml:16:17: this [ is never closed (end it with ] on the same line, or indent the lines that continue it)',
    ])
    expect(problems(valid.replace('name: Noodle Vendor', 'name: "Noodle Vendor'))).toEqual([
      'vendor.yaml:2:7: this quoted text has no closing " (end it with "; a quote inside it is written \\")',
    ])
  })

  it('a syntax error the parser recovers from still lets every other problem be listed', () => {
    const text = valid
      .replace('say: Secret recipe.', 'say: synth-regret: all the same')
      .replace('name: Noodle Vendor', 'name: Noodle Vendor\nmax_failures: lots')
      .replace('{ given: ration_chip }', '{ given: ration_chips }')
      .replace('persona:', 'greting: Hi\npersona:')
    expect(problems(text)).toEqual([
      'vendor.yaml:3:15: max_failures: expected a number, got text "lots"',
      'vendor.yaml:4:1: unknown key "greting" (did you mean "greeting"?)',
      'vendor.yaml:15:22: unknown item "ration_chips" (did you mean "ration_chip"?)',
      'vendor.yaml:19:12: this text contains ": ", which YAML reads as the start of a new key: quote this text (write say: "synth-regret: all the same")',
    ])
  })

  it('a duplicate key names the key and the line where it first appeared', () => {
    expect(problems(valid.replace('persona:', 'name: Again\npersona:'))).toEqual([
      'vendor.yaml:3:1: duplicate key "name": it is already set on line 2 (each key may appear once in a mapping; remove or rename one)',
    ])
    expect(problems(valid.replace('    unlock:', '    fact: Twice.\n    unlock:'))).toEqual([
      'vendor.yaml:13:5: duplicate key "fact": it is already set on line 12 (each key may appear once in a mapping; remove or rename one)',
    ])
  })

  it('positions inside lists are written one way: secrets[0].unlock', () => {
    expect(problems(valid.replace('{ given: ration_chip }', '{ given: 3 }'))).toEqual(['vendor.yaml:13:22: secrets[0].unlock.given: not a valid value (write "given: item_id" or "given: { item: item_id, count: 2 }")'])
    expect(problems(valid.replace('    fact: The broth is mostly synth-regret.\n', ''))).toEqual(['vendor.yaml:11:5: missing required field "fact" in secrets[0]'])
  })

  it('a list used as a key is an error at the key, never a process warning', () => {
    const warn = vi.spyOn(process, 'emitWarning')
    try {
      expect(problems(valid + '? [a, b]\n: x\n')).toEqual(['vendor.yaml:19:3: a key must be plain text, not a list (quote it if the brackets are part of the text)'])
      expect(problems(valid + '{ a: 1 }: x\n')).toEqual(['vendor.yaml:19:1: a key must be plain text, not a mapping (quote it if the brackets are part of the text)'])
      expect(warn).not.toHaveBeenCalled()
    } finally {
      warn.mockRestore()
    }
  })
})
