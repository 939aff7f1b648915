import { saidMatcher } from '@parley/engine/unstable'
import { compare, median, table } from '../lib.ts'
import type { SectionOptions, SectionResult } from './common.ts'

/** Rows of the table below, for the reading. */
const TYPICAL = 2
const HOSTILE = 3
const BUILTIN_HOSTILE = 4
const BASELINE = 'built-in RegExp, benign pattern (open sesame or 芝麻开门)'

/**
 * Issue 14.5: a designer's `said` pattern against the longest line a player may send. RE2 on the
 * hostile `^(a+)+$` (exponential under backtracking) next to the built-in RegExp on a benign
 * pattern, same 2,000-character line, as a ratio measured in one run.
 */
export async function patternSection({ quick }: SectionOptions): Promise<SectionResult> {
  const line = 'a'.repeat(1999) + '!'
  const benign = /open sesame|芝麻开门/iu
  const re2Benign = saidMatcher({ matches: 'open sesame|芝麻开门' })
  const re2Hostile = saidMatcher({ matches: '^(a+)+$' })
  // What the built-in engine does with the hostile pattern on 20 of those characters (it doubles
  // per character from there: 2,000 would not finish).
  const short = 'a'.repeat(20) + '!'
  // A line as players type them, for what RE2 costs a real turn.
  const typical = '你好，我想打听一下透子的下落，他最近在哪？ open?'
  const builtinHostile = /^(a+)+$/iu
  const figures = await compare(
    'said patterns on a 2,000-character line',
    {
      [BASELINE]: () => benign.test(line),
      'RE2 (said), benign pattern': () => re2Benign.test(line),
      'RE2 (said), benign pattern, a 27-character line': () => re2Benign.test(typical),
      'RE2 (said), hostile ^(a+)+$': () => re2Hostile.test(line),
      'built-in RegExp, hostile ^(a+)+$ on only 21 characters': () => builtinHostile.test(short),
    },
    { rounds: quick ? 2 : 5, time: quick ? 200 : 400, warmup: 5, iterations: 5 },
  )
  const ratios = figures[HOSTILE]!.rounds.map((v, i) => v / figures[0]!.rounds[i]!)
  return {
    markdown: `## Passphrases (issue 14.5)\n\nA \`said\` pattern tested against a player line of 2,000 characters (\`a\` × 1,999 then \`!\`), the longest line accepted:\n\n${table(figures, BASELINE)}`,
    reading: `Passphrases: RE2 answers the hostile \`^(a+)+$\` on a 2,000-character line in ${(median(figures[HOSTILE]!.rounds) * 1000).toFixed(0)} µs, ${median(ratios).toFixed(1)}× the built-in RegExp on a benign pattern (RE2's cost is per character, whatever the pattern: a 27-character line takes ${(median(figures[TYPICAL]!.rounds) * 1000).toFixed(1)} µs); the built-in engine needs ${median(figures[BUILTIN_HOSTILE]!.rounds).toFixed(0)} ms for the hostile pattern on 21 characters.`,
  }
}
