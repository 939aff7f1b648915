import { expect } from 'vitest'

type Msg = { role: string; content: string }

/** GLM's message rules as design.md states them, checked on a request as it went over the wire. */
export function expectValidGlmMessages(messages: Msg[]): void {
  expect(messages[0]!.role).toBe('system')
  expect(messages.filter((m) => m.role === 'system')).toHaveLength(1)
  expect(messages.length).toBeGreaterThan(1)
  const rest = messages.slice(1)
  rest.forEach((m, i) => expect(m.role).toBe(i % 2 === 0 ? 'user' : 'assistant'))
  expect(messages.at(-1)!.role).toBe('user')
  for (const m of messages) expect(m.content.trim()).not.toBe('')
}
