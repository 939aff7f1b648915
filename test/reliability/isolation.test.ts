import { describe, expect, it } from 'vitest'
import { createConversation, glmProvider } from '@parley/engine'
import { allNpcs } from '../helpers/npcs.ts'
import { useEmulator } from '../helpers/emulator.ts'

const emulator = useEmulator()

describe('many conversations in one process', () => {
  it('never share history or state, however their turns interleave', async () => {
    emulator().reply = async (req) => {
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 8)))
      return `echo: ${req.body.messages.at(-1).content}`
    }
    const npcs = await allNpcs()
    const provider = glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url })
    const convos = Array.from({ length: 40 }, (_, i) => ({ i, npc: npcs[i % npcs.length]!, c: createConversation(npcs[i % npcs.length]!, { provider }) }))
    await Promise.all(
      convos.map(async ({ i, npc, c }) => {
        // Whatever NPCs the folder holds: one without items is simply given nothing.
        const item = Object.keys(npc.items)[0]
        if (i % 4 === 0 && item) c.give(item, i + 1)
        await Promise.all(Array.from({ length: 5 }, (_, t) => c.say(`conversation ${i} line ${t}`)))
      }),
    )
    for (const { i, npc, c } of convos) {
      const history = c.history()
      expect(history.filter((h) => h.role === 'user').map((h) => h.content)).toEqual(Array.from({ length: 5 }, (_, t) => `conversation ${i} line ${t}`))
      expect(history.filter((h) => h.role === 'assistant').map((h) => h.content)).toEqual(Array.from({ length: 5 }, (_, t) => `echo: conversation ${i} line ${t}`))
      const item = Object.keys(npc.items)[0]
      expect(c.items()).toEqual(i % 4 === 0 && item ? { [item]: i + 1 } : {})
    }
    // Each request carried only its own conversation's lines.
    for (const r of emulator().chatRequests) {
      const owners = new Set(r.body.messages.filter((m: { role: string }) => m.role === 'user').map((m: { content: string }) => /conversation (\d+)/.exec(m.content)?.[1]).filter(Boolean))
      expect(owners.size).toBe(1)
    }
  })
})
