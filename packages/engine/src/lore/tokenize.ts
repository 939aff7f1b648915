const CJK = /[\u3400-\u9fff\uf900-\ufaff]/u

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
    if (CJK.test(ch)) {
      if (word) (out.push(word), (word = ''))
      run += ch
    } else if (/[\p{L}\p{N}]/u.test(ch)) {
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
