import { describe, expect, it } from 'vitest'
import { createConversation, glmProvider, scriptedProvider, type ActionSettings, type Conversation } from '@parley/engine'
import type { RecordedRequest } from './glm-emulator/emulator.ts'
import { useEmulator } from './helpers/emulator.ts'
import { informant } from './helpers/npcs.ts'
import { expectValidGlmMessages } from './helpers/glm-rules.ts'

const emulator = useEmulator()
const MAP_LINE = '拿着，地图给你。'

/** A model that asks for the map when it may, then speaks once it has the result. */
function mapModel(calls: Array<{ name: string; arguments: string }> = [{ name: 'give_map', arguments: '{"region":"北边的废墟"}' }]) {
  return (req: RecordedRequest) => {
    const last = req.body.messages.at(-1)
    if (last.role === 'tool') return `${MAP_LINE}（${last.content}）`
    return req.body.tools ? { content: '', toolCalls: calls } : '没有地图。'
  }
}

function talk(actions: ActionSettings = { handler: () => ({ ok: true }) }, provider = glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url, retry: { baseDelayMs: 1 } })): Conversation {
  const convo = createConversation(informant(), { provider, actions })
  convo.give('gold', 50)
  return convo
}

const toolsOf = (r: RecordedRequest) => (r.body.tools ?? []).map((t: { function: { name: string } }) => t.function.name)

describe('actions through GLM function calling', () => {
  it('an action is offered only while its condition holds', async () => {
    const convo = createConversation(informant(), { provider: glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url }) })
    await convo.say('你好')
    expect(toolsOf(emulator().chatRequests[0]!)).toEqual(['end_conversation'])
    convo.give('gold', 50)
    await convo.say('你好')
    expect(toolsOf(emulator().chatRequests[1]!)).toEqual(['give_map', 'end_conversation'])
    expect(emulator().chatRequests[1]!.body.tool_choice).toBe('auto')
    expect(emulator().chatRequests[1]!.body.tools[0]).toEqual({
      type: 'function',
      function: { name: 'give_map', description: expect.any(String), parameters: { type: 'object', properties: { region: { type: 'string', enum: ['北边的废墟'], description: '地图画的是哪里' } }, required: ['region'] } },
    })
  })

  it('a call the game carries out: the result goes back as a tool message, the NPC speaks, the effect applies', async () => {
    emulator().reply = mapModel()
    const asked: string[] = []
    const convo = talk({ handler: (call) => (asked.push(`${call.name} ${JSON.stringify(call.args)}`), { ok: true, result: 'map handed over' }) })
    const events: string[] = []
    convo.on('action.requested', (e) => events.push(e.call.name))
    const r = await convo.say('有地图吗？')
    expect(r.text).toBe(`${MAP_LINE}（{"status":"done","result":"map handed over"}）`)
    expect(r.actions).toEqual([{ name: 'give_map', args: { region: '北边的废墟' }, status: 'done' }])
    expect(asked).toEqual(['give_map {"region":"北边的废墟"}'])
    expect(events).toEqual(['give_map'])
    expect(convo.flags()).toEqual(['gave_map'])
    const [first, second] = emulator().chatRequests
    const call = second!.body.messages.at(-2)
    expect(call).toMatchObject({ role: 'assistant', tool_calls: [{ function: { name: 'give_map' } }] })
    expect(second!.body.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: call.tool_calls[0].id, content: '{"status":"done","result":"map handed over"}' })
    for (const req of [first!, second!]) expectValidGlmMessages(req.body.messages)
    expect(convo.history().map((h) => h.role)).toEqual(['user', 'assistant', 'tool', 'assistant'])
    // Once given, the map is no longer offered; the next request carries the whole exchange.
    await convo.say('谢了')
    expect(toolsOf(emulator().chatRequests[2]!)).toEqual(['end_conversation'])
    expectValidGlmMessages(emulator().chatRequests[2]!.body.messages)
  })

  it('a refused call tells the model why, and nothing applies', async () => {
    emulator().reply = mapModel()
    const convo = talk({ handler: () => ({ ok: false, reason: 'the player has no room in their bag' }) })
    const r = await convo.say('有地图吗？')
    expect(r.actions).toEqual([{ name: 'give_map', args: { region: '北边的废墟' }, status: 'refused', reason: 'the player has no room in their bag' }])
    expect(r.text).toContain('"status":"refused"')
    expect(convo.flags()).toEqual([])
  })

  it('bad arguments and unknown tools are answered as errors without asking the game', async () => {
    emulator().reply = mapModel([
      { name: 'give_map', arguments: '{"region":"南边的海港"}' },
      { name: 'give_map', arguments: 'not json' },
      { name: 'open_vault', arguments: '{}' },
    ])
    let asked = 0
    const convo = talk({ handler: () => (asked++, { ok: true }) })
    const r = await convo.say('有地图吗？')
    expect(asked).toBe(0)
    expect(r.actions!.map((a) => a.status)).toEqual(['invalid', 'invalid', 'invalid'])
    expect(r.actions!.map((a) => a.reason)).toEqual([
      'invalid arguments for "give_map": region: must be one of 北边的废墟',
      'the arguments of "give_map" are not JSON',
      'unknown action "open_vault"; available: give_map, end_conversation',
    ])
    expectValidGlmMessages(emulator().chatRequests[1]!.body.messages)
    expect(convo.history().filter((h) => h.role === 'tool')).toHaveLength(3)
  })

  it('a model that never stops calling tools hits the cap: tools are withdrawn, then the turn fails cleanly', async () => {
    emulator().reply = () => ({ content: '', toolCalls: [{ name: 'end_conversation', arguments: '{}' }] })
    const convo = talk({ handler: () => ({ ok: false, reason: 'not now' }) })
    const before = convo.history()
    const r = await convo.say('你好')
    expect(r).toMatchObject({ kind: 'fallback', error: { code: 'action_loop' } })
    const requests = emulator().chatRequests
    expect(requests).toHaveLength(4)
    expect(requests.map((q) => q.body.tools?.length ?? 0)).toEqual([2, 2, 2, 0])
    for (const q of requests) expectValidGlmMessages(q.body.messages)
    expect(convo.history()).toEqual(before)
    expect(convo.state).toBe('awaiting')
  })

  it('streams a turn with tool calls', async () => {
    emulator().reply = mapModel()
    const convo = talk()
    const s = convo.stream('有地图吗？')
    let text = ''
    for await (const d of s) text += d
    expect(text).toContain(MAP_LINE)
    expect((await s.result).actions).toEqual([{ name: 'give_map', args: { region: '北边的废墟' }, status: 'done' }])
  })

  it('without a handler the game answers with resolveAction, or the action times out as refused', async () => {
    emulator().reply = mapModel()
    const convo = talk({ timeoutMs: 200 })
    const states: string[] = []
    convo.on('action.requested', (e) => {
      states.push(convo.state)
      convo.resolveAction(e.call.id, { ok: true })
    })
    expect((await convo.say('有地图吗？')).actions![0]!.status).toBe('done')
    expect(states).toEqual(['acting'])
    const slow = talk({ timeoutMs: 50 })
    const r = await slow.say('有地图吗？')
    expect(r.actions![0]).toMatchObject({ status: 'refused', reason: 'the game did not answer within 50 ms' })
  })

  it('end_conversation ends it after the NPC\'s line', async () => {
    emulator().reply = (req) => (req.body.messages.at(-1).role === 'tool' ? '滚出去。' : { content: '', toolCalls: [{ name: 'end_conversation', arguments: '{}' }] })
    const convo = talk()
    const r = await convo.say('我要揍你')
    expect(r).toMatchObject({ text: '滚出去。', state: 'ended' })
    await expect(convo.say('还在吗')).rejects.toMatchObject({ code: 'conversation_ended' })
  })

  it('reads the older function_call finish reason from OpenAI-compatible servers', async () => {
    emulator().reply = mapModel()
    const convo = talk({ handler: () => ({ ok: true }) }, glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().openaiUrl }))
    const r = await convo.say('有地图吗？')
    expect(emulator().chatRequests[0]!.path).toBe('/v1/chat/completions')
    expect(r.actions![0]!.status).toBe('done')
  })

  it('the scripted provider hands over the map after the bribe and ends the conversation when threatened', async () => {
    const convo = createConversation(informant(), { provider: scriptedProvider(), actions: { handler: () => ({ ok: true }) } })
    expect((await convo.say('有地图吗？')).actions).toBeUndefined()
    convo.give('gold', 50)
    const map = await convo.say('有没有北边的废墟的地图？')
    expect(map.actions).toEqual([{ name: 'give_map', args: { region: '北边的废墟' }, status: 'done' }])
    expect(map.text).toContain('这是北边的废墟的地图')
    const threat = await convo.say('再不说我就揍你')
    expect(threat).toMatchObject({ state: 'ended', actions: [{ name: 'end_conversation', status: 'done' }] })
  })
})
