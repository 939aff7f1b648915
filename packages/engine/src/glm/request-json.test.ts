import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { requestJson } from './request-json.ts'

const message = fc.record(
  {
    role: fc.constantFrom('system', 'user', 'assistant', 'tool'),
    content: fc.string({ unit: 'binary' }),
    tool_call_id: fc.option(fc.string(), { nil: undefined }),
    tool_calls: fc.option(fc.array(fc.record({ id: fc.string(), type: fc.constant('function'), function: fc.record({ name: fc.string(), arguments: fc.string() }) })), { nil: undefined }),
  },
  { requiredKeys: ['role', 'content'] },
)
const maybeFrozen = fc.tuple(message, fc.boolean()).map(([m, frozen]) => (frozen ? Object.freeze(m) : m))
const payload = fc.record(
  {
    model: fc.string(),
    messages: fc.array(maybeFrozen, { maxLength: 8 }),
    temperature: fc.option(fc.double({ noNaN: true }), { nil: undefined }),
    tools: fc.option(fc.array(fc.jsonValue(), { maxLength: 2 }), { nil: undefined }),
    request_id: fc.string(),
    stream: fc.option(fc.boolean(), { nil: undefined }),
  },
  { requiredKeys: ['model', 'messages'] },
)

describe('the request body', () => {
  it('is byte for byte what JSON.stringify writes, on the first call and when frozen messages are reused', () => {
    fc.assert(
      fc.property(payload, (p) => {
        expect(requestJson(p)).toBe(JSON.stringify(p))
        expect(requestJson(p)).toBe(JSON.stringify(p))
      }),
    )
  })

  it('a message that can change is written as it is now, not as it was', () => {
    const open = { role: 'user', content: 'first' }
    const nested = Object.freeze({ role: 'assistant', content: '', tool_calls: [{ id: 'a', type: 'function', function: { name: 'x', arguments: '{}' } }] })
    const p = { model: 'glm-4-flash', messages: [open, nested] }
    requestJson(p)
    open.content = 'second'
    nested.tool_calls[0]!.id = 'b'
    expect(requestJson(p)).toBe(JSON.stringify(p))
    expect(requestJson(p)).toContain('"second"')
    expect(requestJson(p)).toContain('"id":"b"')
  })

  it('leaves out what JSON.stringify leaves out, and writes null for an array hole', () => {
    const p = { model: 'm', skip: undefined, fn: () => 1, messages: [undefined, Object.freeze({ role: 'user', content: 'hi', extra: undefined })] }
    expect(requestJson(p)).toBe(JSON.stringify(p))
  })
})
