import { describe, expect, it } from 'vitest'
import { ThinkTagFilter, splitThinkTags } from './think-tags.ts'

function streamed(chunks: string[]) {
  const f = new ThinkTagFilter()
  let spoken = ''
  let reasoning = ''
  for (const c of [...chunks.map((x) => f.push(x)), f.end()]) {
    spoken += c.spoken
    reasoning += c.reasoning
  }
  return { spoken, reasoning }
}

const WHOLE = '<think>玩家想知道仓库。</think>\n\n七号仓库。'

describe('<think> in content', () => {
  it('splits reasoning from the spoken line', () => {
    expect(splitThinkTags(WHOLE)).toEqual({ spoken: '七号仓库。', reasoning: '玩家想知道仓库。' })
  })

  it('gives the same split however the stream cuts it, tags included', () => {
    const chars = Array.from(WHOLE)
    for (let size = 1; size <= 9; size++) {
      const chunks: string[] = []
      for (let i = 0; i < chars.length; i += size) chunks.push(chars.slice(i, i + size).join(''))
      expect(streamed(chunks)).toEqual({ spoken: '七号仓库。', reasoning: '玩家想知道仓库。' })
    }
  })

  it('never lets a byte of reasoning into the spoken part while it streams', () => {
    const f = new ThinkTagFilter()
    const spoken = ['<thi', 'nk>秘', '密</th', 'ink>', '你好'].map((c) => f.push(c).spoken).join('') + f.end().spoken
    expect(spoken).toBe('你好')
  })

  it('an orphan closing tag (the template opened the block) makes what came before it reasoning', () => {
    expect(splitThinkTags('想一想……</think>\n你好')).toEqual({ spoken: '你好', reasoning: '想一想……' })
  })

  it('text without tags, or with a lone "<", is spoken as it is', () => {
    expect(streamed(['a <', 'b'])).toEqual({ spoken: 'a <b', reasoning: '' })
    expect(streamed(['<', '3 你'])).toEqual({ spoken: '<3 你', reasoning: '' })
    expect(splitThinkTags('你好')).toEqual({ spoken: '你好', reasoning: '' })
  })

  it('an unclosed block is all reasoning: a reply cut mid-thought says nothing', () => {
    expect(streamed(['<think>还在想', '……'])).toEqual({ spoken: '', reasoning: '还在想……' })
  })
})
