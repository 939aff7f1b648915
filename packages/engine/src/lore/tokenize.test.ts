import { describe, expect, it } from 'vitest'
import { tokenize } from './tokenize.ts'

/** The tokenizer as it was written first (a string per character, ICU for every text): the reference. */
function reference(text: string): string[] {
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
    if ((cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff)) {
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

describe('BM25 terms', () => {
  it('are words, ideograph bigrams, and the one ideograph of a one-ideograph run', () => {
    expect(tokenize('霓虹区哪里能打听到消息？')).toEqual(['霓虹', '虹区', '区哪', '哪里', '里能', '能打', '打听', '听到', '到消', '消息'])
    expect(tokenize('Ｗhere is the 矿道, OK?')).toEqual(['where', 'is', 'the', '矿道', 'ok'])
    expect(tokenize('北 map2 Café')).toEqual(['北', 'map2', 'café'])
  })

  it('are the reference tokenizer\'s on random text of every kind: CJK, full-width, accents, astral letters, lone surrogates', () => {
    const pool = ['霓', '虹', '区', '㐀', '豈', '︰', 'Ａ', 'ｚ', '１', '？', '。', '、', 'a', 'Z', '9', ' ', '\n', '!', '-', 'é', 'e\u0301', 'ﬁ', 'İ', 'ß', '𝐀', '𠀀', '\ud800', 'Ω', 'ｶ', 'ﾞ', '①', '\u3000']
    let seed = 7
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31)
    for (let n = 0; n < 20_000; n++) {
      const text = Array.from({ length: 1 + Math.floor(next() * 16) }, () => pool[Math.floor(next() * pool.length)]!).join('')
      expect(tokenize(text), JSON.stringify(text)).toEqual(reference(text))
    }
  })
})
