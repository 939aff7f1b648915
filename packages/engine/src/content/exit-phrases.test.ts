import { describe, expect, it } from 'vitest'
import { isExitPhrase, nfkcFold, normalizePhrase } from './exit-phrases.ts'

const npc = { exit_phrases: ['任务结束!', 'See you'] }

describe('exit phrases', () => {
  it('ignore width, case, spaces and trailing punctuation', () => {
    for (const line of ['任务结束!', '任务结束', '任务结束！', ' 任务 结束 ！ ', '任务结束!!', 'see you!', 'SEE YOU', 'see you.', 'See you …', 'seeyou']) {
      expect(isExitPhrase(npc, line), line).toBe(true)
    }
  })

  it('still need the words themselves', () => {
    for (const line of ['任务', '任务结束了', 'see', 'see you later', '!', '', '   ']) {
      expect(isExitPhrase(npc, line), line).toBe(false)
    }
  })

  it('a phrase that is only punctuation is compared as written', () => {
    expect(normalizePhrase('...')).toBe('...')
    expect(isExitPhrase({ exit_phrases: ['...'] }, '…')).toBe(true)
    expect(isExitPhrase({ exit_phrases: ['...'] }, '')).toBe(false)
  })

  describe('the one-pass fold agrees with NFKC and the regexes', () => {
    const ranges = [[0x00, 0x7f], [0x3001, 0x3002], [0x4e00, 0x9fff], [0xff01, 0xff5e]] as const
    const fast = ranges.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i)))
    const ascii = fast.slice(0, 0x80)
    const fullWidth = fast.slice(-94)

    it('on every character it handles, alone and inside a line', () => {
      for (const c of fast) {
        for (const line of [c, `A${c}`, `${c}!`, ` ${c}。`, `任务${c}结束`]) expect(normalizePhrase(line), JSON.stringify(line)).toBe(nfkcFold(line))
      }
    })

    it('on every pair of ASCII and full-width characters', () => {
      for (const a of [...ascii, ...fullWidth]) for (const b of [...ascii, ...fullWidth]) expect(normalizePhrase(a + b)).toBe(nfkcFold(a + b))
    })

    it('on random lines of those characters and spaces', () => {
      let seed = 15
      const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31)
      const pool = [...fast, ' ', '\t', '\u3000', '!', '！', '。']
      for (let n = 0; n < 20_000; n++) {
        const line = Array.from({ length: 1 + Math.floor(next() * 12) }, () => pool[Math.floor(next() * pool.length)]!).join('')
        expect(normalizePhrase(line), JSON.stringify(line)).toBe(nfkcFold(line))
      }
    })

    it('leaves every other line to NFKC: composed accents, ligatures, the ideographic space, compatibility ideographs', () => {
      for (const line of ['Cafe\u0301', 'ﬁn', '任务　结束', '\uf900', 'ｶﾞ', '①', 'İ', 'ǅ', '\u00a0bye']) expect(normalizePhrase(line), line).toBe(nfkcFold(line))
      expect(isExitPhrase({ exit_phrases: ['café'] }, 'Cafe\u0301!')).toBe(true)
    })
  })
})
