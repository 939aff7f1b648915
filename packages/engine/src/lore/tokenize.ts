import { quickLowerNfkc } from '../content/quick-nfkc.ts'

const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u

/** The ideographs BM25 cuts into bigrams (U+3400–9FFF, U+F900–FAFF), by code point: a regex per character was most of a query's cost. */
const isCjk = (cp: number) => (cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff)

/** `\p{L}` or `\p{N}`, answered without a regex for ASCII. */
function isLetterOrNumber(cp: number): boolean {
  return cp < 0x80 ? (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) : LETTER_OR_NUMBER.test(String.fromCodePoint(cp))
}

/** A run of ideographs as terms: its bigrams, or the one character of a one-character run. */
function pushRun(out: string[], s: string, from: number, to: number): void {
  if (to - from === 1) out.push(s[from]!)
  // Every ideograph `isCjk` takes is one UTF-16 unit, so a bigram is two units.
  for (let i = from; i + 1 < to; i++) out.push(s.slice(i, i + 2))
}

/**
 * Terms for BM25: words for alphabetic text, character bigrams for Chinese (which has no spaces;
 * bigrams match most two-character words), plus single characters for one-character queries.
 * Terms are slices of the lowercased NFKC text, found by index (a string per character, and ICU
 * for the usual line, were most of a query's cost).
 */
export function tokenize(text: string): string[] {
  const out: string[] = []
  const s = quickLowerNfkc(text) ?? text.toLowerCase().normalize('NFKC')
  let run = -1
  let word = -1
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!
    if (isCjk(cp)) {
      if (word >= 0) (out.push(s.slice(word, i)), (word = -1))
      if (run < 0) run = i
    } else {
      if (run >= 0) (pushRun(out, s, run, i), (run = -1))
      if (isLetterOrNumber(cp)) {
        if (word < 0) word = i
      } else if (word >= 0) (out.push(s.slice(word, i)), (word = -1))
    }
    i += cp > 0xffff ? 2 : 1
  }
  if (run >= 0) pushRun(out, s, run, s.length)
  if (word >= 0) out.push(s.slice(word))
  return out
}
