import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createConversation, parseNpc, scriptedProvider, type Npc, type Provider } from '@parley/engine'
import { ROOT } from './helpers/npcs.ts'

const keeperPath = `${ROOT}test/fixtures/machine/keeper.yaml`
const keeper = (): Npc => {
  const npc = parseNpc(readFileSync(keeperPath, 'utf8'), keeperPath)
  return {
    ...npc,
    scripted: {
      replies: [
        { keywords: ['wreck'], when: { flag: 'met' }, say: 'North of the reef.' },
        { keywords: ['wreck'], when: { not: { flag: 'met' } }, say: 'What wreck?' },
      ],
      default: 'The sea is calm.',
    },
  }
}

describe('scripted replies with `when`', () => {
  it('are judged by the state the turn began in, read by the scripted provider', async () => {
    const convo = createConversation(keeper(), { provider: scriptedProvider() })
    expect((await convo.say('the wreck?')).text).toBe('What wreck?')
    convo.setFlag('met')
    expect((await convo.say('the wreck?')).text).toBe('North of the reef.')
  })

  it('reach a provider that reads them as the same filtered list on every read', async () => {
    const seen: unknown[][] = []
    const provider: Provider = {
      name: 'reader',
      reply: async (turn) => (seen.push([turn.script.replies, turn.script.replies]), { text: 'ok' }),
    }
    const convo = createConversation(keeper(), { provider })
    await convo.say('hello')
    expect(seen[0]![0]).toBe(seen[0]![1])
    expect(seen[0]![0]).toEqual([{ keywords: ['wreck'], when: { not: { flag: 'met' } }, say: 'What wreck?' }])
  })
})
