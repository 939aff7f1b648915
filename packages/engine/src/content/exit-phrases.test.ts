import { describe, expect, it } from 'vitest'
import { isExitPhrase, normalizePhrase } from './exit-phrases.ts'

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
})
