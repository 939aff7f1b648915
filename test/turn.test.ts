import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createConversation, glmProvider, GlmError, parseNpc, restoreConversation, scriptedProvider, type Npc, type Provider, type ProviderTurn } from '@parley/engine'
import { exchangeProblem } from '@parley/engine/unstable'
import type { RecordedRequest } from './glm-emulator/emulator.ts'
import { useEmulator } from './helpers/emulator.ts'
import { expectValidGlmMessages } from './helpers/glm-rules.ts'
import { ROOT } from './helpers/npcs.ts'

const emulator = useEmulator()
const keeperPath = `${ROOT}test/fixtures/machine/keeper.yaml`
const keeper = (): Npc => parseNpc(readFileSync(keeperPath, 'utf8'), keeperPath)
const glm = () => glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url, retry: { limit: 0 } })

/** Process warnings (MaxListenersExceededWarning and the like) during a test fail it. */
let warnings: string[] = []
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`)
beforeEach(() => {
  warnings = []
  process.on('warning', onWarning)
})
afterEach(() => {
  process.off('warning', onWarning)
})

/** A model that asks for the map twice in every round it may, and speaks when tools are withdrawn or its calls were answered. */
function greedyMapModel(req: RecordedRequest) {
  const offered = (req.body.tools ?? []).map((t: { function: { name: string } }) => t.function.name)
  const rounds = req.body.messages.filter((m: { role: string }) => m.role === 'tool').length / 2
  if (rounds < 2 && offered.length > 0) return { content: '', toolCalls: [{ name: 'give_map', arguments: '{}' }, { name: 'give_map', arguments: '{}' }] }
  return 'Take it.'
}

describe('the turn, owned by the machine', () => {
  it('a model asking for the map twice a round, two rounds running, gets it handed over once', async () => {
    emulator().reply = greedyMapModel
    const handed: string[] = []
    const convo = createConversation(keeper(), { provider: glm(), actions: { handler: (call) => (handed.push(call.id), { ok: true }) } })
    const r = await convo.say('a map, please')
    expect(handed).toHaveLength(1)
    expect(r.kind).toBe('reply')
    expect(r.actions!.map((a) => a.status)).toEqual(['done', 'invalid', 'invalid', 'invalid'])
    expect(r.actions![1]!.reason).toMatch(/"give_map" is not available now/)
    expect(convo.flags()).toEqual(['gave_map'])
    // The second round is offered no map at all: the state the first call left says it is given.
    const second = emulator().chatRequests[1]!
    expect((second.body.tools ?? []).map((t: { function: { name: string } }) => t.function.name)).toEqual(['end_conversation'])
    for (const req of emulator().chatRequests) expectValidGlmMessages(req.body.messages)
  })

  it('an action the game carried out stands when the closing line fails, and history records the whole exchange', async () => {
    emulator().reply = greedyMapModel
    emulator().faultWith((_req, n) => (n >= 2 ? { status: 400, code: '1210', message: 'bad' } : undefined))
    const convo = createConversation(keeper(), { provider: glm(), actions: { handler: () => ({ ok: true }) } })
    const r = await convo.say('a map, please')
    expect(r).toMatchObject({ kind: 'fallback', text: 'The lamp flickers; say that again?', state: 'awaiting' })
    expect(r.actions!.map((a) => a.status)).toEqual(['done', 'invalid'])
    expect(convo.flags()).toEqual(['gave_map'])
    const history = convo.history()
    expect(history.map((h) => h.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant'])
    expect(history[0]).toEqual({ role: 'user', content: 'a map, please' })
    expect(history[1]!.tool_calls).toHaveLength(2)
    expect(history.at(-1)).toEqual({ role: 'assistant', content: 'The lamp flickers; say that again?' })
    expect(exchangeProblem(history)).toBeUndefined()
    // The save holds it, and the next request built from it keeps GLM's rules.
    const again = restoreConversation(keeper(), convo.snapshot(), { provider: glm() })
    expect(again.flags()).toEqual(['gave_map'])
    emulator().clearFaults()
    emulator().reply = () => 'Back again?'
    await again.say('hello')
    expectValidGlmMessages(emulator().chatRequests.at(-1)!.body.messages)
  })

  it('a failed turn with no action carried out leaves nothing behind', async () => {
    emulator().fault({ status: 400, code: '1210', message: 'bad' })
    const convo = createConversation(keeper(), { provider: glm() })
    const r = await convo.say('hello')
    expect(r.kind).toBe('fallback')
    expect(convo.history()).toEqual([])
    expect(convo.flags()).toEqual([])
    expect(convo.turns).toBe(0)
  })

  it('give() inside a listener returns what it really unlocked', async () => {
    const convo = createConversation(keeper(), { provider: scriptedProvider() })
    let fromListener: { unlocked: string[] } | undefined
    const order: string[] = []
    convo.on('secret.unlocked', (e) => order.push(`unlocked ${e.secret}`))
    convo.on('turn.completed', () => {
      fromListener = convo.give('coin')
      order.push('gave')
    })
    await convo.say('hello')
    expect(fromListener).toEqual({ unlocked: ['wreck'] })
    expect(convo.unlocked()).toEqual(['wreck'])
    expect(order).toEqual(['gave', 'unlocked wreck'])
  })

  it('setFlag and end from a listener act at once too', async () => {
    const convo = createConversation(keeper(), { provider: scriptedProvider() })
    let flagged: { unlocked: string[] } | undefined
    let ended: string | undefined
    convo.on('request.sent', () => {
      flagged = convo.setFlag('met')
    })
    convo.on('turn.completed', () => {
      ended = convo.end().state
    })
    await convo.say('hello')
    expect(flagged).toEqual({ unlocked: [] })
    expect(convo.flags()).toEqual(['met'])
    expect(ended).toBe('ended')
    expect(convo.state).toBe('ended')
  })

  it('a line answered while an exit phrase waits behind it reports the state the machine is in: ended', async () => {
    const convo = createConversation(keeper(), { provider: scriptedProvider() })
    const first = convo.say('hello')
    const bye = convo.say('goodbye')
    expect((await first).state).toBe('ended')
    expect(await bye).toMatchObject({ kind: 'farewell', state: 'ended' })
  })

  it('a line answered while another waits behind it reports the next turn under way', async () => {
    const convo = createConversation(keeper(), { provider: scriptedProvider() })
    const first = convo.say('hello')
    const second = convo.say('again')
    expect((await first).state).toBe('requesting')
    expect((await second).state).toBe('awaiting')
  })

  it('setFlag refuses a flag the NPC does not declare, and prototype names are unknown ids', () => {
    const convo = createConversation(keeper(), { provider: scriptedProvider() })
    expect(() => convo.setFlag('met_boss')).toThrow(expect.objectContaining({ code: 'unknown_flag' }))
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => convo.setFlag(name)).toThrow(expect.objectContaining({ code: 'unknown_flag' }))
      expect(() => convo.give(name)).toThrow(expect.objectContaining({ code: 'unknown_item' }))
    }
    expect(convo.items()).toEqual({})
    expect(convo.flags()).toEqual([])
    expect(convo.setFlag('met')).toEqual({ unlocked: [] })
  })

  it('an NPC without declared flags takes any flag name, prototype names included, as plain data', () => {
    const yaml = readFileSync(keeperPath, 'utf8').replace(/flags:\n(  .*\n)+/, '').replace('    when: { not: { flag: gave_map } }\n', '')
    const npc = parseNpc(yaml, keeperPath)
    const convo = createConversation(npc, { provider: scriptedProvider() })
    convo.setFlag('constructor')
    expect(convo.flags()).toEqual(['constructor'])
    expect(convo.snapshot().flags).toEqual(['constructor'])
  })

  it('end() on an ended conversation says so', () => {
    const convo = createConversation(keeper(), { provider: scriptedProvider() })
    expect(convo.end()).toMatchObject({ kind: 'farewell', state: 'ended' })
    expect(() => convo.end()).toThrow(expect.objectContaining({ code: 'conversation_ended' }))
  })

  it('leaving a stream() loop early cancels that turn and leaves history as it was', async () => {
    const npc = keeper()
    const long = 'x'.repeat(200)
    const provider = scriptedProvider({ chunkSize: 1, delayMs: 1 })
    const convo = createConversation({ ...npc, scripted: { replies: [], default: long } }, { provider })
    const stream = convo.stream('hello')
    const seen: string[] = []
    for await (const delta of stream) {
      seen.push(delta)
      if (seen.length === 3) break
    }
    await expect(stream.result).rejects.toMatchObject({ code: 'aborted' })
    expect(convo.state).toBe('awaiting')
    expect(convo.history()).toEqual([])
    expect((await convo.say('again')).text).toBe(long)
  })

  it.each([
    ['the scripted provider, one character a chunk', () => createConversation({ ...keeper(), scripted: { replies: [], default: 'y'.repeat(60) } }, { provider: scriptedProvider({ chunkSize: 1, delayMs: 1 }) }), 'y'.repeat(60)],
    ['GLM through the emulator', () => ((emulator().reply = () => 'z'.repeat(80)), createConversation(keeper(), { provider: glm() })), 'z'.repeat(80)],
  ] as const)('a streamed turn raises no process warnings, no listener piles up: %s', async (_name, make, expected) => {
    const convo = make()
    let text = ''
    for await (const delta of convo.stream('hello')) text += delta
    expect(text).toBe(expected)
    await new Promise((r) => setTimeout(r, 20))
    expect(warnings).toEqual([])
  })

  it('when the model says the context is too long, the turn retries once with half the history', async () => {
    const seen: number[] = []
    let failed = false
    const provider: Provider = {
      name: 'tight',
      async reply(turn: ProviderTurn) {
        seen.push(turn.messages.length)
        if (!failed) {
          failed = true
          throw new GlmError({ kind: 'context_exceeded' as never, message: 'prompt too long', status: 400 })
        }
        return { text: 'Short now.' }
      },
    }
    const npc = keeper()
    const saved = { format: 'parley.conversation', version: 1, npc: 'keeper', state: 'awaiting', history: Array.from({ length: 8 }, (_, i) => [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }]).flat(), items: {}, flags: [], unlocked: [], said: [], fresh: [], turns: 8, failures: 0 }
    const convo = restoreConversation(npc, saved, { provider })
    const r = await convo.say('hello')
    expect(r.text).toBe('Short now.')
    expect(seen).toEqual([1 + 16 + 1, 1 + 8 + 1])
    expect(convo.history()).toHaveLength(18)
  })

  it('the userId option reaches the provider with every call', async () => {
    const seen: Array<string | undefined> = []
    const provider: Provider = { name: 'spy', reply: async (turn) => (seen.push(turn.userId), { text: 'Hm.' }) }
    await createConversation(keeper(), { provider, userId: 'player-42' }).say('hello')
    await createConversation(keeper(), { provider }).say('hello')
    expect(seen).toEqual(['player-42', undefined])
  })
})
