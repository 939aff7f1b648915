/**
 * Tool calls as servers send them, made whole. In a stream a call may arrive in fragments keyed
 * by `index`: the first carries `id`, `type` and `function.name`, later ones only pieces of
 * `function.arguments` (GLM with `tool_stream`, vLLM, OpenAI: glm-api.md §8). Without
 * `tool_stream` GLM sends each call whole, one per chunk, each with its own index; both shapes go
 * through the same merge. Z.AI's schema types `arguments` as an object while live traffic sends a
 * string, so an object is accepted and kept as its JSON text.
 */
import type { GlmToolCall } from './types.ts'

/** One entry of `delta.tool_calls` or `message.tool_calls`, as loosely as servers send it. */
export interface RawToolCall {
  index?: number | null
  id?: string | null
  type?: string | null
  function?: { name?: string | null; arguments?: unknown } | null
}

/** JSON text for the arguments, whatever shape they came in. */
export function argumentsText(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

interface Pending {
  id: string
  type: 'function'
  name: string
  args: string
}

/**
 * Collects the tool-call fragments of one response. A fragment with a known `index` extends that
 * call (its arguments appended; an id, type or name it carries fills what is still missing); a
 * fragment without an index, or with an index already used by a call with another id, is a new
 * call. Calls come out in index order.
 */
export class ToolCallCollector {
  readonly #calls = new Map<number, Pending>()
  #next = 0

  add(fragments: readonly RawToolCall[]): void {
    for (const f of fragments) {
      let index = typeof f.index === 'number' && Number.isInteger(f.index) && f.index >= 0 ? f.index : this.#next
      // A second call under a used index with an id of its own is a new call, not a fragment.
      const seen = this.#calls.get(index)
      if (seen?.id && f.id && f.id !== seen.id) index = this.#next
      this.#next = Math.max(this.#next, index + 1)
      const piece = argumentsText(f.function?.arguments)
      const known = this.#calls.get(index)
      if (!known) {
        this.#calls.set(index, { id: f.id ?? '', type: 'function', name: f.function?.name ?? '', args: piece })
        continue
      }
      if (!known.id && f.id) known.id = f.id
      if (!known.name && f.function?.name) known.name = f.function.name
      known.args += piece
    }
  }

  get size(): number {
    return this.#calls.size
  }

  /** The whole calls. A call the server never gave an id gets one, so its result can name it. */
  calls(requestId: string): GlmToolCall[] {
    return [...this.#calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => ({ id: c.id || `call_${requestId}_${index}`, type: c.type, function: { name: c.name, arguments: c.args } }))
  }
}

/** Non-streamed calls: the same normalisation (object arguments, missing ids) without fragments. */
export function wholeToolCalls(raw: readonly RawToolCall[] | null | undefined, requestId: string): GlmToolCall[] | undefined {
  if (!raw?.length) return undefined
  const collector = new ToolCallCollector()
  collector.add(raw.map((call, i) => ({ ...call, index: i })))
  return collector.calls(requestId)
}
