import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { getShortestPaths } from '@xstate/graph'
import { createActor, type AnyStateNode } from 'xstate'
import { GlmError, parseNpc, type Provider, type ActionSettings, type EmbeddingOptions } from '@parley/engine'
import { conversationMachine, emptyData, exchangeProblem, type ConversationEvent, type ConversationInput } from '@parley/engine/unstable'
import { ROOT } from './helpers/npcs.ts'

/** A provider that never answers by itself: the test plays the provider's part with events. */
const silent: Provider = { name: 'silent', reply: () => new Promise(() => {}) }
/** An embeddings client that never answers: the test plays retrieval's part too. */
const slowEmbeddings = { client: { embeddings: () => new Promise(() => {}) } } as unknown as EmbeddingOptions

const path = `${ROOT}test/fixtures/machine/keeper.yaml`
const npc = parseNpc(readFileSync(path, 'utf8'), path)

const toolCall = (id: string, name: string) => ({ id, type: 'function' as const, function: { name, arguments: '{}' } })
const events = [
  { type: 'player.say', id: 1, text: 'hello', stream: true },
  { type: 'player.say', id: 2, text: '', stream: false },
  { type: 'player.say', id: 3, text: 'goodbye', stream: false },
  { type: 'game.give', item: 'coin', count: 1 },
  { type: 'game.end' },
  { type: 'turn.cancel', id: 1 },
  { type: 'xstate.done.actor.lore', output: { messages: [{ role: 'system', content: 'keeper' }, { role: 'user', content: 'hello' }], lore: ['light#0'] } },
  { type: 'call.delta', text: 'Hm' },
  { type: 'call.retry', info: { attempt: 1, error: new GlmError({ kind: 'http', status: 503, message: 'busy', retryable: true }) } },
  { type: 'call.done', reply: { text: 'Hm.' } },
  { type: 'call.done', reply: { text: '', toolCalls: [toolCall('c1', 'give_map'), toolCall('c2', 'give_map')] } },
  { type: 'call.failed', error: new GlmError({ kind: 'network', message: 'reset', retryable: true }) },
  { type: 'action.resolve', callId: 'c1', outcome: { ok: true } },
  { type: 'action.resolve', callId: 'c2', outcome: { ok: true } },
  { type: 'xstate.after.actionTimeout.conversation.busy.acting.deciding' },
  { type: 'xstate.done.actor.decide', output: { ok: true } },
] as unknown as ConversationEvent[]

// Where the machine is, not the growing history: state, a queued line or not, failures, unlocks, the turn's progress.
const serializeState = (s: any) =>
  JSON.stringify([s.value, Math.min(s.context.queue.length, 1), s.context.data.failures, s.context.data.unlocked.length, s.context.data.flags.length, s.context.turn?.rounds ?? -1, s.context.turn?.round?.waiting.length ?? -1])

/** Every state a snapshot can rest in: the atomic states, without the eventless ones the machine passes through. */
function restingStates(node: AnyStateNode = conversationMachine.root): string[] {
  const children = Object.values(node.states) as AnyStateNode[]
  if (children.length === 0) return node.always?.length ? [] : [node.path.join('.')]
  return children.flatMap((child) => restingStates(child))
}

const leaf = (value: unknown): string => (typeof value === 'string' ? value : Object.entries(value as object).map(([k, v]) => `${k}.${leaf(v)}`)[0]!)

const inputs: Record<string, ConversationInput> = {
  'lore by embeddings, the game answers with resolveAction': { npc, provider: silent, data: emptyData, embeddings: slowEmbeddings },
  'BM25 lore, the game answers with a handler': { npc, provider: silent, data: emptyData, actions: { handler: () => new Promise(() => {}) } satisfies ActionSettings },
}

describe('conversation machine: every state, by @xstate/graph paths', () => {
  const all = Object.entries(inputs).map(([name, input]) => ({ name, input, paths: getShortestPaths(conversationMachine, { input, events, serializeState, limit: 20_000 }) }))

  it('reaches every state a snapshot can rest in, preparing and acting included', () => {
    const reached = new Set(all.flatMap(({ paths }) => paths.map((p) => leaf(p.state.value))))
    expect(restingStates().sort()).toEqual(['awaiting', 'busy.acting.deciding.byGame', 'busy.acting.deciding.byHandler', 'busy.calling.requesting', 'busy.calling.retrying', 'busy.calling.streaming', 'busy.preparing', 'ended'])
    expect([...reached].sort()).toEqual(restingStates().sort())
  })

  for (const { name, input, paths } of all) {
    it.each(paths.map((p) => [p.steps.map((s) => s.event.type).join(' → ') || '(start)', p] as const))(`${name}: replays on a live actor: %s`, (_label, p) => {
      const actor = createActor(conversationMachine, { input }).start()
      for (const step of p.steps) actor.send(step.event)
      const snap = actor.getSnapshot()
      expect(snap.value).toEqual(p.state.value)
      const ctx = snap.context
      // On every path: history is whole, valid exchanges; ended means nothing queued; a turn exactly while busy.
      expect(exchangeProblem(ctx.data.history.toArray())).toBeUndefined()
      if (snap.value === 'ended') expect(ctx.queue).toEqual([])
      expect(ctx.turn !== undefined).toBe(typeof snap.value === 'object')
      // However `calling` was entered (a line, lore retrieved, a round of actions closed, a trimmed retry), its request is the one recorded as sent.
      if (JSON.stringify(snap.value).includes('"calling"')) {
        expect(ctx.lastRequest).toBe(ctx.turn!.messages)
        expect(ctx.lastLore).toBe(ctx.turn!.prepared.lore)
      }
      // The map is handed over at most once per conversation, however often the model asks.
      const handed = ctx.data.history.toArray().filter((h) => h.role === 'tool' && h.content.includes('"done"')).length
      expect(handed).toBeLessThanOrEqual(1)
      actor.stop()
    })
  }

  it('max_failures consecutive failures end the conversation', () => {
    const input = Object.values(inputs)[1]!
    const toEnded = getShortestPaths(conversationMachine, { input, events, serializeState, toState: (s) => s.context.data.failures >= npc.max_failures })
    expect(toEnded.length).toBeGreaterThan(0)
    for (const p of toEnded) expect(p.state.value).toBe('ended')
  })
})
