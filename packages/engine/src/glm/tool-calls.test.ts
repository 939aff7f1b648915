import { describe, expect, it } from 'vitest'
import { ToolCallCollector, wholeToolCalls } from './tool-calls.ts'

describe('tool-call fragments', () => {
  it('merges fragments by index: id, type and name from the first, arguments appended', () => {
    const c = new ToolCallCollector()
    c.add([{ index: 0, id: 'call_a', type: 'function', function: { name: 'give_key', arguments: '' } }])
    c.add([{ index: 0, function: { arguments: '{"do' } }])
    c.add([{ index: 0, function: { arguments: 'or":"七号' } }])
    c.add([{ index: 0, function: { arguments: '仓库"}' } }])
    expect(c.calls('r1')).toEqual([{ id: 'call_a', type: 'function', function: { name: 'give_key', arguments: '{"door":"七号仓库"}' } }])
  })

  it('keeps interleaved calls apart by index, in index order', () => {
    const c = new ToolCallCollector()
    c.add([{ index: 1, id: 'b', function: { name: 'two', arguments: '{"x"' } }])
    c.add([{ index: 0, id: 'a', function: { name: 'one', arguments: '{}' } }])
    c.add([{ index: 1, function: { arguments: ':1}' } }])
    expect(c.calls('r').map((x) => [x.id, x.function.name, x.function.arguments])).toEqual([
      ['a', 'one', '{}'],
      ['b', 'two', '{"x":1}'],
    ])
  })

  it('whole calls, one per chunk (GLM without tool_stream), stay separate calls', () => {
    const c = new ToolCallCollector()
    c.add([{ index: 0, id: 'a', type: 'function', function: { name: 'one', arguments: '{"n":1}' } }])
    c.add([{ index: 1, id: 'b', type: 'function', function: { name: 'two', arguments: '{"n":2}' } }])
    expect(c.calls('r')).toHaveLength(2)
  })

  it('a second whole call under a used index but with its own id is a new call, not a fragment', () => {
    const c = new ToolCallCollector()
    c.add([{ index: 0, id: 'a', function: { name: 'one', arguments: '{}' } }])
    c.add([{ index: 0, id: 'b', function: { name: 'two', arguments: '{}' } }])
    expect(c.calls('r').map((x) => x.function.name)).toEqual(['one', 'two'])
  })

  it('accepts an object where a JSON string is expected, and names a call that came without an id', () => {
    expect(wholeToolCalls([{ function: { name: 'give_key', arguments: { door: '七号仓库' } } }], 'req')).toEqual([
      { id: 'call_req_0', type: 'function', function: { name: 'give_key', arguments: '{"door":"七号仓库"}' } },
    ])
  })
})
