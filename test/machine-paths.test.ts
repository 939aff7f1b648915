import { describe, expect, it } from 'vitest'
import { getShortestPaths } from '@xstate/graph'
import { createActor } from 'xstate'
import { conversationMachine, GlmError, type ConversationEvent, type Provider } from '@parley/engine'
import { emptyData } from '../packages/engine/src/conversation/state.ts'
import { informant } from './helpers/npcs.ts'

/** A provider that never answers by itself: the test plays the provider's part with events. */
const silent: Provider = { name: 'silent', reply: () => new Promise(() => {}) }

const npc = informant()
const input = { npc, provider: silent, data: emptyData, ended: false }

const events: ConversationEvent[] = [
  { type: 'player.say', id: 1, text: '你好', stream: true },
  { type: 'player.say', id: 2, text: '', stream: false },
  { type: 'player.say', id: 3, text: '任务结束！', stream: false },
  { type: 'game.give', item: 'red_gem', count: 1 },
  { type: 'game.end' },
  { type: 'turn.delta', id: 1, text: '想' },
  { type: 'turn.retry', id: 1, info: { attempt: 1, error: new GlmError({ kind: 'http', status: 503, message: 'busy', retryable: true }) } },
  { type: 'turn.done', id: 1, reply: { text: '好' } },
  { type: 'turn.failed', id: 1, error: new GlmError({ kind: 'network', message: 'reset', retryable: true }) },
  { type: 'turn.cancel', id: 1 },
  // A late answer to a turn that is no longer current: must change nothing.
  { type: 'turn.done', id: 99, reply: { text: 'stale' } },
]

// State identity for the traversal: where the machine is, not the growing history.
const serializeState = (s: any) => JSON.stringify([s.value, s.context.ended, Math.min(s.context.queue.length, 1), Math.min(s.context.data.failures, 3), s.context.data.unlocked.length])

describe('conversation machine: every reachable state, by @xstate/graph paths', () => {
  const paths = getShortestPaths(conversationMachine, { input, events, serializeState, limit: 5000 })
  const reached = new Set(paths.map((p) => JSON.stringify(p.state.value)))

  it('reaches every state a game can show', () => {
    expect([...reached].sort()).toEqual(['"awaiting"', '"ended"', '{"busy":"retrying"}', '{"busy":"streaming"}', '{"busy":"thinking"}'].sort())
  })

  it.each(paths.map((p) => [p.steps.map((s) => s.event.type).join(' → ') || '(start)', p] as const))('replays on a live actor: %s', (_name, path) => {
    const actor = createActor(conversationMachine, { input }).start()
    for (const step of path.steps) actor.send(step.event)
    expect(actor.getSnapshot().value).toEqual(path.state.value)
    const ctx = actor.getSnapshot().context
    // Invariants on every path: history alternates, nothing half-written, ended means no queue.
    ctx.data.history.toArray().forEach((h, i) => expect(h.role).toBe(i % 2 === 0 ? 'user' : 'assistant'))
    if (actor.getSnapshot().value === 'ended') expect(ctx.queue).toEqual([])
    if (typeof actor.getSnapshot().value === 'object') expect(ctx.current).toBeDefined()
    else expect(ctx.current).toBeUndefined()
    expect(ctx.data.history.toArray().map((h) => h.content)).not.toContain('stale')
    actor.stop()
  })

  it('max_failures consecutive failures end the conversation', () => {
    const toEnded = getShortestPaths(conversationMachine, { input, events, serializeState, toState: (s) => s.context.data.failures >= npc.max_failures })
    expect(toEnded.length).toBeGreaterThan(0)
    for (const p of toEnded) expect(p.state.value).toBe('ended')
  })
})
