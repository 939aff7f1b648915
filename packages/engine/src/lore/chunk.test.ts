import { describe, expect, it } from 'vitest'
import { chunkText, splitSentences } from './chunk.ts'
import { tokenize } from './tokenize.ts'
import { Bm25Index } from './bm25.ts'
import { estimateTokens } from '../prompt/tokens.ts'

describe('splitSentences', () => {
  it('splits Chinese at 。！？； and keeps closing quotes with their sentence', () => {
    expect(splitSentences('透子来过。他说：“明天见！”然后走了？是的；真的')).toEqual(['透子来过。', '他说：“明天见！”', '然后走了？', '是的；', '真的'])
  })

  it('splits English at end punctuation followed by a space, not inside numbers', () => {
    expect(splitSentences('Pier 9 opens at 3.5 a.m. on Thursdays. Bring cash! Why?')).toEqual(['Pier 9 opens at 3.5 a.m.', 'on Thursdays.', 'Bring cash!', 'Why?'])
  })
})

describe('chunkText', () => {
  const zh = Array.from({ length: 12 }, (_, i) => `第${i}句话讲的是城市里的第${i}件事情。`).join('')

  it('keeps every chunk within the window and cuts only at sentence ends', () => {
    const chunks = chunkText(zh, { window: 40, overlap: 0 })
    expect(chunks.length).toBeGreaterThan(2)
    for (const c of chunks) {
      expect(estimateTokens(c)).toBeLessThanOrEqual(40)
      expect(c.endsWith('。')).toBe(true)
    }
    expect(chunks.join('')).toBe(zh)
  })

  it('repeats trailing sentences up to the overlap at the start of the next chunk', () => {
    const [first, second] = chunkText(zh, { window: 40, overlap: 20 })
    const lastOfFirst = splitSentences(first!).at(-1)!
    expect(second!.startsWith(lastOfFirst)).toBe(true)
  })

  it('never crosses a Markdown section and prefixes each chunk with its heading', () => {
    const md = '# 港区\n\n港区在东边。走私货从这里上岸。\n\n# 下城\n\n下城在地下。'
    expect(chunkText(md, { window: 100, overlap: 0 })).toEqual(['港区\n港区在东边。走私货从这里上岸。', '下城\n下城在地下。'])
  })

  it('handles English paragraphs and a sentence longer than the window', () => {
    const long = 'word '.repeat(100).trim() + '.'
    const chunks = chunkText(`Short one. ${long}\n\nNext paragraph here.`, { window: 30, overlap: 0 })
    for (const c of chunks) expect(estimateTokens(c)).toBeLessThanOrEqual(30)
    // Cut between sentences; a paragraph break inside a chunk stays a line break.
    expect(chunks.at(-1)!.endsWith('.\nNext paragraph here.')).toBe(true)
  })
})

describe('BM25', () => {
  it('tokenizes Chinese into bigrams and English into words', () => {
    expect(tokenize('山贼透子 likes Pier-9')).toEqual(['山贼', '贼透', '透子', 'likes', 'pier', '9'])
  })

  it('ranks a small fixed corpus as expected', () => {
    const docs = ['铁鸦帮控制着下城的供水站。', '白狐会是港区的老大，做情报生意。', '北边的废墟以前是农场。', 'The harbor fog is thick at night.']
    const index = new Bm25Index(docs)
    const best = (q: string) => {
      const s = index.scores(q)
      return s.indexOf(Math.max(...s))
    }
    expect(best('谁管供水站？')).toBe(0)
    expect(best('港区的老大是谁')).toBe(1)
    expect(best('废墟以前是什么')).toBe(2)
    expect(best('is the fog thick?')).toBe(3)
    expect(index.scores('完全无关的问题')).toEqual([0, 0, 0, 0])
  })

  it('scores are Okapi BM25 (k1 = 1.2, b = 0.75) exactly, however the weights are stored', () => {
    const docs = ['雾港的雾很浓，雾里有船。', '港区的老大叫老K，老K管码头。', 'the fog over the harbour is thick, thick fog', '供水站在雾港北边。']
    const tokenized = docs.map(tokenize)
    const avg = tokenized.reduce((a, d) => a + d.length, 0) / docs.length
    const textbook = (query: string) =>
      tokenized.map((doc) => {
        let score = 0
        for (const term of new Set(tokenize(query))) {
          const f = doc.filter((t) => t === term).length
          if (!f) continue
          const df = tokenized.filter((d) => d.includes(term)).length
          const idf = Math.log(1 + (docs.length - df + 0.5) / (df + 0.5))
          score += idf * ((f * 2.2) / (f + 1.2 * (0.25 + (0.75 * doc.length) / avg)))
        }
        return score
      })
    const index = new Bm25Index(docs)
    for (const query of ['雾港的雾', '老K在哪', 'thick fog?', '供水站', '没有的词', '']) {
      const got = index.scores(query)
      const want = textbook(query)
      expect(got).toHaveLength(docs.length)
      got.forEach((s, i) => expect(s).toBeCloseTo(want[i]!, 12))
    }
  })
})
