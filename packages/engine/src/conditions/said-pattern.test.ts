import { describe, expect, it } from 'vitest'
import { saidMatcher, saidPatternHint, saidPatternProblem } from './said-pattern.ts'
import { evaluate } from './evaluate.ts'
import { isParleyError } from '../errors.ts'

describe('said patterns (RE2)', () => {
  it('ignore cases by default, Unicode letters included; ignore_case: false matches exactly', () => {
    expect(saidMatcher({ matches: 'ÉCOLE' }).test('on the école steps')).toBe(true)
    expect(saidMatcher({ matches: 'ΣΟΦΙΑ' }).test('σοφια')).toBe(true)
    expect(saidMatcher({ matches: '芝麻开门|open sesame' }).test('well: OPEN SESAME!')).toBe(true)
    expect(saidMatcher({ matches: 'Sesame', ignore_case: false }).test('sesame')).toBe(false)
    expect(saidMatcher({ matches: 'Sesame', ignore_case: false }).test('Sesame')).toBe(true)
  })

  it('test a pattern anywhere in the line; ^ and $ anchor to the whole line', () => {
    expect(saidMatcher({ matches: '^hi$' }).test('hi')).toBe(true)
    expect(saidMatcher({ matches: '^hi$' }).test('oh hi there')).toBe(false)
    expect(saidMatcher({ matches: '\\bgem\\b' }).test('the red gem, please')).toBe(true)
  })

  it('answer `^(a+)+$` on a 2,000-character line (catastrophic for a backtracking engine)', () => {
    const hostile = { matches: '^(a+)+$' }
    // A backtracking engine needs about 2^2000 steps for this line; the test timeout is the deadline.
    expect(saidMatcher(hostile).test('a'.repeat(1999) + '!')).toBe(false)
    expect(saidMatcher(hostile).test('a'.repeat(2000))).toBe(true)
    expect(evaluate({ said: hostile }, { items: {}, flags: [], turns: 0, currentLine: 'a'.repeat(1999) + '!' })).toBe(false)
  }, 30_000)

  it('a forged line (lone surrogates, NULs) is just a line that matches or not, never an error', () => {
    const m = saidMatcher({ matches: 'open sesame|.x' })
    expect(m.test('\uD800abc')).toBe(false)
    expect(m.test('\uDFFF\uD800x')).toBe(true)
    expect(m.test('OPEN SESAME\uD83D')).toBe(true)
    expect(m.test('open\u0000sesame')).toBe(false)
  })

  it('compile once per condition, and keep no cache keyed by pattern text', () => {
    const said = { matches: 'open sesame' }
    expect(saidMatcher(said)).toBe(saidMatcher(said))
    // Another condition with the same text has its own matcher (it lives and dies with its NPC).
    expect(saidMatcher({ matches: 'open sesame' })).not.toBe(saidMatcher(said))
  })

  it('refuse backreferences, lookaround and bad syntax, giving RE2\'s reason and a fix', () => {
    expect(saidPatternProblem({ matches: '(a)\\1' })).toBe('invalid escape sequence: `\\1`')
    expect(saidPatternHint('(a)\\1', 'invalid escape sequence: `\\1`')).toMatch(/^RE2 has no backreferences/)
    expect(saidPatternProblem({ matches: 'open(?= sesame)' })).toBe('invalid or unsupported Perl syntax: `(?=`')
    expect(saidPatternHint('open(?= sesame)', 'invalid or unsupported Perl syntax: `(?=`')).toMatch(/^RE2 has no lookahead or lookbehind/)
    expect(saidPatternProblem({ matches: '(?<!not )open' })).toBeDefined()
    expect(saidPatternProblem({ matches: 'open (sesame' })).toBe('missing closing ): `open (sesame`')
    expect(saidPatternProblem({ matches: 'open sesame' })).toBeUndefined()
  })

  it('refuse a pattern whose compiled program is too large to stay fast, and accept ordinary long lists', () => {
    expect(saidPatternProblem({ matches: '\\p{L}{800}' })).toBe('too complex for a passphrase: 802 RE2 instructions, at most 500')
    expect(saidPatternHint('\\p{L}{800}', 'too complex for a passphrase: 802 RE2 instructions, at most 500')).toMatch(/^match a few telling words/)
    const synonyms = ['open sesame', 'open the door', 'let me in', '芝麻开门', '开门', '让我进去', 'ouvre-toi', 'sésame'].join('|')
    expect(saidPatternProblem({ matches: `\\b(${synonyms})\\b` })).toBeUndefined()
    expect(() => saidMatcher({ matches: '\\p{L}{800}' })).toThrow(/too complex for a passphrase/)
  })

  it('a pattern built in code that RE2 refuses throws invalid_argument, not a raw engine error', () => {
    let error: unknown
    try {
      saidMatcher({ matches: '(a)\\1' })
    } catch (e) {
      error = e
    }
    expect(isParleyError(error) && error.code).toBe('invalid_argument')
    expect((error as Error).message).toBe('said pattern /(a)\\1/ is not valid RE2: invalid escape sequence: `\\1`')
  })
})
