const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u

/** The ideographs BM25 cuts into bigrams (U+3400–9FFF, U+F900–FAFF), by code point: a regex per character was most of a query's cost. */
const isCjk = (cp: number) => (cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff)

/** `\p{L}` or `\p{N}`, answered without a regex for ASCII. */
const isLetterOrNumber = (ch: string, cp: number) => (cp < 0x80 ? (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) : LETTER_OR_NUMBER.test(ch))

/**
 * Terms for BM25: words for alphabetic text, character bigrams for Chinese (which has no spaces;
 * bigrams match most two-character words), plus single characters for one-character queries.
 */
export function tokenize(text: string): string[] {
  const out: string[] = []
  const lower = text.toLowerCase().normalize('NFKC')
  let run = ''
  const flushRun = () => {
    if (run.length === 1) out.push(run)
    for (let i = 0; i + 1 < run.length; i++) out.push(run.slice(i, i + 2))
    run = ''
  }
  let word = ''
  for (const ch of lower) {
    const cp = ch.codePointAt(0)!
    if (isCjk(cp)) {
      if (word) (out.push(word), (word = ''))
      run += ch
    } else if (isLetterOrNumber(ch, cp)) {
      if (run) flushRun()
      word += ch
    } else {
      if (run) flushRun()
      if (word) (out.push(word), (word = ''))
    }
  }
  if (run) flushRun()
  if (word) out.push(word)
  return out
}
