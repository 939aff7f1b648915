import { RE2JS, RE2JSException } from 're2js'
import { ParleyError } from '../errors.ts'

/** The `said:` half of a condition: a pattern over the player's own lines. */
export interface SaidSpec {
  readonly matches: string
  /** Default true. */
  readonly ignore_case?: boolean | undefined
}

/** What a compiled `said` pattern offers: a yes or no for one player line. */
export interface SaidMatcher {
  test(line: string): boolean
}

/**
 * Patterns are RE2 syntax, matched in time linear in the line whatever the pattern: a player
 * line can never make a designer's pattern backtrack (`^(a+)+$` on 2,000 characters is as quick
 * as `hello`). RE2 is Unicode-aware (code points, `\p{Han}`); case folding is Unicode's simple one.
 */
function compile(said: SaidSpec): RE2JS {
  return RE2JS.compile(said.matches, said.ignore_case === false ? 0 : RE2JS.CASE_INSENSITIVE)
}

/**
 * Linear in the line is not enough on its own: the cost per character grows with the compiled
 * program, and past several hundred instructions (`\p{L}{800}`) re2js's DFA gives up and each
 * 2,000-character line costs a quarter of a second. A passphrase needs a few dozen
 * (`open sesame|芝麻开门` is 18); 500 leaves room for long lists of synonyms.
 */
export const MAX_SAID_INSTRUCTIONS = 500

const tooComplex = (n: number) => `too complex for a passphrase: ${n} RE2 instructions, at most ${MAX_SAID_INSTRUCTIONS}`

/**
 * Why a pattern cannot be used, in RE2's words (`invalid escape sequence: \`\1\``) or because it
 * is too complex; undefined when it is fine. Lint reports this at the pattern's position.
 */
export function saidPatternProblem(said: SaidSpec): string | undefined {
  try {
    // Without flags first: case folding never changes whether a pattern compiles, and RE2 would
    // quote the pattern back with a `(?i)` the designer never wrote.
    RE2JS.compile(said.matches)
    const size = instructions(compile(said))
    return size > MAX_SAID_INSTRUCTIONS ? tooComplex(size) : undefined
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error
    return reason(error)
  }
}

const reason = (error: Error) => error.message.replace(/^error parsing regexp: /, '')

const instructions = (re: RE2JS): number => re.re2().numberOfInstructions() as number

/** A fix for the usual reasons a pattern written for JavaScript or PCRE fails under RE2. */
export function saidPatternHint(pattern: string, problem: string): string {
  if (/\\[1-9]|\\k</.test(pattern) && problem.startsWith('invalid escape')) return 'RE2 has no backreferences: spell the alternatives out, e.g. "(ab|cd)" instead of "(a|c)\\1"'
  if (/\(\?<?[=!]/.test(pattern)) return 'RE2 has no lookahead or lookbehind: match the words themselves, or use "all:" and "not:" conditions'
  if (/\\u[0-9a-fA-F]{4}/.test(pattern)) return 'RE2 writes a code point as \\x{00e9}, or just type the character'
  if (problem.startsWith('too complex')) return 'match a few telling words rather than the whole line; large {n,m} counts multiply the size'
  return 'patterns use RE2 syntax: escape ( ) [ ] ? * + . with a backslash to match them literally'
}

/**
 * Compiled once per condition: the WeakMap is keyed by the `said` object inside the NPC, so the
 * cache lives exactly as long as the NPC does and holds one entry per pattern it declares. No
 * cache keyed by pattern text, which a stream of distinct patterns could grow without bound.
 */
const compiled = new WeakMap<SaidSpec, RE2JS>()

/**
 * The matcher for one `said` condition. Content from `parseNpc` has already been checked; a
 * pattern built in code that RE2 refuses throws `invalid_argument` naming RE2's reason.
 */
export function saidMatcher(said: SaidSpec): SaidMatcher {
  let re = compiled.get(said)
  if (!re) {
    try {
      re = compile(said)
    } catch (error) {
      if (!(error instanceof RE2JSException)) throw error
      throw new ParleyError('invalid_argument', `said pattern /${said.matches}/ is not valid RE2: ${reason(error)}`, { cause: error })
    }
    const size = instructions(re)
    if (size > MAX_SAID_INSTRUCTIONS) throw new ParleyError('invalid_argument', `said pattern /${said.matches}/ is ${tooComplex(size)}`)
    compiled.set(said, re)
  }
  return re
}
