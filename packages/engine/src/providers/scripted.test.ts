import { describe, expect, it, vi } from 'vitest'
import { scriptedProvider } from './scripted.ts'
import type { ProviderTurn } from './types.ts'

describe('scriptedProvider', () => {
  it('types a long reply chunk by chunk without piling listeners on the turn\'s signal (no Node leak warning)', async () => {
    const warn = vi.spyOn(process, 'emitWarning')
    const controller = new AbortController()
    const turn = {
      messages: [],
      model: { name: 'glm-4-flash' },
      playerLine: 'hello',
      script: { replies: [], default: 'x'.repeat(60) },
      revealed: [],
      tools: [],
      signal: controller.signal,
    } as unknown as ProviderTurn
    const deltas: string[] = []
    try {
      const reply = await scriptedProvider({ chunkSize: 2, delayMs: 1 }).reply(turn, (d) => deltas.push(d))
      expect(reply.text).toBe('x'.repeat(60))
      expect(deltas).toHaveLength(30)
      expect(warn).not.toHaveBeenCalled()
    } finally {
      warn.mockRestore()
    }
  })
})
