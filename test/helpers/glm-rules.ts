import { expect } from 'vitest'
import { type HistoryEntry } from '@parley/engine'
import { exchangeProblem } from '@parley/engine/unstable'

type Msg = { role: string; content: string; tool_calls?: unknown[]; tool_call_id?: string }

/**
 * GLM's message rules as design.md states them, checked on a request as it went over the wire:
 * one system message first, then whole exchanges (the player's line, tool calls each followed by
 * their results, the NPC's reply), ending with the player or with tool results awaiting a reply.
 */
export function expectValidGlmMessages(messages: Msg[]): void {
  expect(messages[0]!.role).toBe('system')
  expect(messages.filter((m) => m.role === 'system')).toHaveLength(1)
  expect(messages.length).toBeGreaterThan(1)
  const rest = messages.slice(1) as HistoryEntry[]
  // Close the open exchange with a stand-in reply, then check the whole as exchanges.
  const closed = [...rest, { role: 'assistant' as const, content: '(reply)' }]
  expect(exchangeProblem(closed)).toBeUndefined()
  expect(['user', 'tool']).toContain(messages.at(-1)!.role)
  for (const m of messages) if (!(m.role === 'assistant' && m.tool_calls)) expect(m.content.trim()).not.toBe('')
}
