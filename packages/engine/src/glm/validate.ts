import { GlmError } from './errors.ts'
import type { ChatRequest } from './types.ts'

const ROLES = new Set(['system', 'user', 'assistant', 'tool'])

/**
 * Whether a code unit is white space or a line terminator as `trim()` sees them (ECMAScript
 * WhiteSpace and LineTerminator: Tab, VT, FF, LF, CR, Zs, NBSP, BOM, LS, PS), answered without
 * the one-character string and regex match a `/\s/` test costs per message.
 */
const isSpace = (c: number) =>
  c <= 0x20 ? c === 0x20 || (c >= 0x09 && c <= 0x0d) : c >= 0xa0 && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff)

/** Blank as `trim()` sees it, without copying a long message that does not start with a space. */
const blank = (s: string) => s === '' || (isSpace(s.charCodeAt(0)) && s.trim() === '')

const invalid = (message: string) => new GlmError({ kind: 'invalid_request', message, retryable: false })

/**
 * Checks a request against GLM's rules before it leaves, so a mistake costs no round trip.
 * Accepts the looser, newer ranges (temperature and top_p in [0, 1]); `normalizeSampling` then
 * maps the edges the way the official SDK does, which the older service also accepts.
 */
export function validateChatRequest(request: ChatRequest): void {
  if (!request.model) throw invalid('model is required')
  const { messages } = request
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages must be a non-empty list')
  // Plain loops: this runs over the whole request (history included) on every call.
  let spoken = false
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    if (!ROLES.has(m.role)) throw invalid(`messages[${i}].role "${String(m.role)}" is not one of system, user, assistant, tool`)
    if (typeof m.content !== 'string') throw invalid(`messages[${i}].content must be text`)
    if (m.role !== 'assistant' && m.role !== 'tool' && blank(m.content)) throw invalid(`messages[${i}].content is empty`)
    if (m.role === 'system' && i !== 0) throw invalid(`messages[${i}] is a system message; only the first message may be one`)
    if (m.role === 'tool' && !m.tool_call_id) throw invalid(`messages[${i}] is a tool result without tool_call_id`)
    if (m.role === 'user' || m.role === 'tool') spoken = true
  }
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    if (m.role !== 'assistant' || !m.tool_calls?.length) continue
    m.tool_calls.forEach((call, k) => {
      const result = messages[i + 1 + k]
      if (result?.role !== 'tool' || result.tool_call_id !== call.id) throw invalid(`messages[${i}] calls tool ${call.id}; messages[${i + 1 + k}] must be its tool result`)
    })
  }
  if (!spoken) {
    throw invalid('messages must include a user message; GLM rejects a list of only system or assistant messages (code 1214)')
  }
  const last = messages.at(-1)!
  if (last.role !== 'user' && last.role !== 'tool') throw invalid(`the last message must be the player's (user) or a tool result, not ${last.role}`)
  const range = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 1)) throw invalid(`${name} must be between 0 and 1, got ${v}`)
  }
  range('temperature', request.temperature)
  range('top_p', request.top_p)
  if (request.max_tokens !== undefined && !(Number.isInteger(request.max_tokens) && request.max_tokens >= 1)) {
    throw invalid(`max_tokens must be a positive integer, got ${request.max_tokens}`)
  }
  if (request.stop && request.stop.length > 1) throw invalid('GLM supports only one stop word')
}

/** The SDK's mapping: 0 means greedy decoding, 1 is outside the older open interval. */
export function normalizeSampling(request: ChatRequest): ChatRequest {
  let { temperature, top_p, do_sample } = request
  if (temperature !== undefined) {
    if (temperature <= 0) {
      do_sample = false
      temperature = 0.01
    } else if (temperature >= 1) temperature = 0.99
  }
  if (top_p !== undefined) {
    if (top_p >= 1) top_p = 0.99
    else if (top_p <= 0) top_p = 0.01
  }
  if (temperature === request.temperature && top_p === request.top_p && do_sample === request.do_sample) return request
  return { ...request, temperature, top_p, ...(do_sample !== undefined && { do_sample }) }
}
