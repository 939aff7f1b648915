import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createConversation, parseNpc, type Conversation, type Npc, type Provider, type ProviderReply, type ProviderTurn } from '@parley/engine'
import { ROOT } from './helpers/npcs.ts'

const keeperPath = `${ROOT}test/fixtures/machine/keeper.yaml`
const keeper = (): Npc => parseNpc(readFileSync(keeperPath, 'utf8'), keeperPath)

/** A provider that answers only when the test says so, keeping each call's signal. */
function heldProvider() {
  const calls: { signal: AbortSignal; answer: (reply: ProviderReply) => void }[] = []
  const provider: Provider = {
    name: 'held',
    reply: (turn: ProviderTurn) => new Promise<ProviderReply>((resolve) => calls.push({ signal: turn.signal, answer: resolve })),
  }
  return { provider, calls }
}

const started = () => new Promise((r) => setTimeout(r, 0))

describe('leaving the call state aborts the call in hand, and only that', () => {
  it('a cancelled turn aborts its provider call', async () => {
    const { provider, calls } = heldProvider()
    const convo = createConversation(keeper(), { provider })
    const controller = new AbortController()
    const turn = convo.say('hello', { signal: controller.signal })
    await started()
    expect(calls).toHaveLength(1)
    expect(calls[0]!.signal.aborted).toBe(false)
    controller.abort()
    await expect(turn).rejects.toMatchObject({ code: 'aborted' })
    expect(calls[0]!.signal.aborted).toBe(true)
    expect(convo.state).toBe('awaiting')
  })

  it.each([
    ['ending', (c: Conversation): void => void c.end(), 'conversation_ended'],
    ['stopping', (c: Conversation): void => c.stop(), 'aborted'],
  ] as const)('%s the conversation mid-call aborts the call', async (_how, leave, code) => {
    const { provider, calls } = heldProvider()
    const convo = createConversation(keeper(), { provider })
    const turn = convo.say('hello')
    await started()
    leave(convo)
    await expect(turn).rejects.toMatchObject({ code })
    expect(calls[0]!.signal.aborted).toBe(true)
  })

  it('a call that answered is never aborted afterwards, by the next turn, a cancel or the end', async () => {
    const { provider, calls } = heldProvider()
    const convo = createConversation(keeper(), { provider })
    const first = convo.say('hello')
    await started()
    calls[0]!.answer({ text: 'Hm.' })
    expect(await first).toMatchObject({ kind: 'reply', text: 'Hm.', state: 'awaiting' })
    const controller = new AbortController()
    const second = convo.say('again', { signal: controller.signal })
    await started()
    controller.abort()
    await expect(second).rejects.toMatchObject({ code: 'aborted' })
    convo.end()
    expect(calls.map((c) => c.signal.aborted)).toEqual([false, true])
  })
})
