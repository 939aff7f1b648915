/**
 * A GLM v4 chat API on 127.0.0.1 for tests, written from ../../../shared/glm-api.md rather than
 * from what our client sends: it rejects what GLM rejects, answers in GLM's shapes (string error
 * codes, SSE ending in `data: [DONE]`, usage only in the last chunk) and injects faults on demand.
 * As the service is in 2026 (§7–8, rules per family in families.ts): the -250414 GLM-4 models,
 * glm-4.5 … 5.3 and glm-z1; ranges per family; thinking models reason unless the request turns
 * it off (`reasoning_content` on GLM, `<think>` in content for z1 and the local flavour); tool
 * calls in fragments with `tool_stream` and always in the `openai` flavour (which ends them with
 * `tool_calls` and sends usage only when `stream_options` asks); context overflow on demand or
 * past `contextTokens`; embedding token limits per model.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createHmac, randomBytes } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'
import { DEFAULT_MODELS, EMBEDDING_MODELS, acceptsToolStream, chunksCarryObject, familyOf, rangeProblem, reasoningPlace } from './families.ts'

export { DEFAULT_MODELS } from './families.ts'

export interface RecordedRequest {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  /** The raw body as received: what a leak check must scan. */
  raw: string
  body: any
  at: number
}

export interface EmulatedToolCall {
  id?: string
  name: string
  /** A JSON string, as live traffic sends it; an object, as Z.AI's OpenAPI schema types it (§8). */
  arguments: string | Record<string, unknown>
}

export interface EmulatedReply {
  content: string
  reasoning?: string
  finishReason?: string
  toolCalls?: EmulatedToolCall[]
}

export type ReplyPolicy =
  | { type: 'echo' }
  | { type: 'lines'; lines: string[] }
  | ((request: RecordedRequest) => string | EmulatedReply | Promise<string | EmulatedReply>)

/** What can go wrong with one request. Fields combine: a delay then a 503, say. */
export interface Fault {
  /** Answer with this HTTP status and GLM error code instead of a reply. */
  status?: number
  code?: string
  message?: string
  /** Seconds, sent as Retry-After. */
  retryAfter?: number
  /** Wait before anything is written (headers included): a slow first byte. */
  delayMs?: number
  /** Stream: close the connection after this many content chunks, without [DONE]. */
  cutAfterChunks?: number
  /** Stream: send a broken JSON chunk after this many content chunks. */
  malformedAfterChunks?: number
  /** Stream: send `data: {"error":{...}}` after this many chunks. */
  streamError?: { code: string; message: string; afterChunks?: number }
  /** End with this finish_reason (sensitive, length, network_error) after the content. */
  finishReason?: string
  /** Reply with no content at all. */
  empty?: boolean
  /** Destroy the socket without answering: a connection reset. */
  reset?: boolean
  /** HTTP 200 with `finish_reason: "model_context_window_exceeded"` and an empty delta (§8 "Overflow"). */
  overflow?: boolean
}

/** What can go wrong with one embeddings request. */
export interface EmbeddingFault {
  status?: number
  code?: string
  message?: string
  delayMs?: number
  reset?: boolean
}

/** The reasoning a thinking model sends when the reply policy gives none: easy to look for in text and history. */
export const DEFAULT_REASONING = '〔推理〕玩家在问我问题，我先想一想该透露多少。'

export interface EmulatorOptions {
  /** The key clients must send as Bearer. A key of the form id.secret also accepts SDK-style JWTs. */
  apiKey?: string
  models?: string[]
  reply?: ReplyPolicy
  /** `openai` answers errors and chunks in the OpenAI/Ollama shape, for compatible-base tests. */
  flavor?: 'glm' | 'openai'
  /** Characters per stream chunk. */
  chunkSize?: number
  /** Pause between stream chunks. */
  chunkDelayMs?: number
  port?: number
  /**
   * The model's context window in (estimated) prompt tokens: a longer prompt overflows. GLM-4.5+
   * answer HTTP 200 `model_context_window_exceeded`, the GLM-4 line 400/1261, the openai flavour
   * vLLM's 400 "maximum context length" (§8 "Overflow").
   */
  contextTokens?: number
  /** openai flavour: end tool calls with the old `function_call` finish reason (THUDM's GLM-4 demo server, §6). */
  legacyFunctionCall?: boolean
}

export class GlmEmulator {
  readonly requests: RecordedRequest[] = []
  url = ''
  /** The OpenAI-style base (`/v1`) served by the same process. */
  openaiUrl = ''
  reply: ReplyPolicy
  readonly #faults: Fault[] = []
  #faultFn: ((request: RecordedRequest, n: number) => Fault | undefined) | undefined
  readonly #embeddingFaults: EmbeddingFault[] = []
  #embeddingFaultFn: ((request: RecordedRequest) => EmbeddingFault | undefined) | undefined
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #lineIndex = 0
  #served = 0
  readonly options: EmulatorOptions
  constructor(options: EmulatorOptions = {}) {
    this.options = options
    this.reply = options.reply ?? { type: 'echo' }
    this.#server = createServer((req, res) => void this.#handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: { code: '500', message: String(error) } })
      else res.destroy()
    }))
    this.#server.keepAliveTimeout = 60_000
    this.#server.on('connection', (s) => {
      this.#sockets.add(s)
      s.on('close', () => this.#sockets.delete(s))
    })
  }

  get apiKey(): string {
    return this.options.apiKey ?? 'test-key'
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(this.options.port ?? 0, '127.0.0.1', resolve))
    const { port } = this.#server.address() as AddressInfo
    this.url = `http://127.0.0.1:${port}/api/paas/v4`
    this.openaiUrl = `http://127.0.0.1:${port}/v1`
    return this
  }

  /** Queue faults for the next requests, one each, in order. */
  fault(...faults: Fault[]): this {
    this.#faults.push(...faults)
    return this
  }

  /** Decide faults per request (n counts chat requests from 1); overrides the queue while set. */
  faultWith(fn: ((request: RecordedRequest, n: number) => Fault | undefined) | undefined): this {
    this.#faultFn = fn
    return this
  }

  /** Queue faults for the next embeddings requests, one each, in order. */
  embeddingFault(...faults: EmbeddingFault[]): this {
    this.#embeddingFaults.push(...faults)
    return this
  }

  /** Decide a fault for every embeddings request while set (chat is untouched). */
  embeddingFaultWith(fn: ((request: RecordedRequest) => EmbeddingFault | undefined) | undefined): this {
    this.#embeddingFaultFn = fn
    return this
  }

  clearFaults(): this {
    this.#faults.length = 0
    this.#faultFn = undefined
    this.#embeddingFaults.length = 0
    this.#embeddingFaultFn = undefined
    return this
  }

  /** Requests to the embeddings endpoint, in order. */
  get embeddingRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/embeddings'))
  }

  /** Requests to the chat endpoint, in order. */
  get chatRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith('/chat/completions'))
  }

  /** Back to how it started: no recorded requests, no faults, the reply policy it was created with. */
  reset(): void {
    this.requests.length = 0
    this.reply = this.options.reply ?? { type: 'echo' }
    this.clearFaults()
    this.#lineIndex = 0
    this.#served = 0
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req)
    const path = (req.url ?? '/').split('?')[0]!
    const record: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, raw, body: undefined, at: Date.now() }
    this.requests.push(record)
    const openai = this.options.flavor === 'openai' || path.startsWith('/v1/')
    const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      send(res, status, openai ? { error: { message, type: status === 401 ? 'authentication_error' : 'invalid_request_error', param: null, code: null } } : { error: { code, message }, request_id: newId() }, headers)

    const route = path.replace(/^\/(api\/paas\/v4|v1)/, '')
    if (req.method !== 'POST' || (route !== '/chat/completions' && route !== '/embeddings')) {
      return fail(404, '1222', `API 不存在: ${req.method} ${path}`)
    }
    const auth = checkAuth(req.headers.authorization, this.apiKey)
    if (auth) return fail(401, auth.code, auth.message)
    try {
      record.body = JSON.parse(raw)
    } catch {
      return fail(400, '1210', 'API 调用参数有误，请检查文档。请求体不是合法的 JSON')
    }
    if (record.body === null || typeof record.body !== 'object' || Array.isArray(record.body)) return fail(400, '1210', 'API 调用参数有误，请检查文档。')
    if (route === '/embeddings') {
      const fault = (this.#embeddingFaultFn ? this.#embeddingFaultFn(record) : this.#embeddingFaults.shift()) ?? {}
      if (fault.delayMs) await sleep(fault.delayMs)
      if (fault.reset) return void req.socket.destroy()
      if (res.destroyed) return
      if (fault.status) return fail(fault.status, fault.code ?? String(fault.status), fault.message ?? defaultMessage(fault.code))
      return this.#embeddings(record.body, res, fail)
    }

    this.#served++
    const fault = (this.#faultFn ? this.#faultFn(record, this.#served) : this.#faults.shift()) ?? {}
    if (fault.delayMs) await sleep(fault.delayMs)
    if (fault.reset) {
      req.socket.destroy()
      return
    }
    const problem = validateChat(record.body, this.options.models ?? DEFAULT_MODELS)
    if (problem) return fail(400, problem.code, problem.message)
    if (fault.status) {
      return fail(fault.status, fault.code ?? String(fault.status), fault.message ?? defaultMessage(fault.code), fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) })
    }

    const body = record.body as { model: string; stream?: boolean; request_id?: string; messages: Array<{ content: unknown }>; tool_stream?: boolean; stream_options?: { include_usage?: boolean } }
    const promptTokens = body.messages.reduce((n: number, m) => n + estimateTokens(typeof m.content === 'string' ? m.content : JSON.stringify(m.content)), 0)
    let overflow = !!fault.overflow
    if (this.options.contextTokens !== undefined && promptTokens > this.options.contextTokens) {
      // §8 "Overflow": vLLM (the local flavour) and the GLM-4 line answer 400; GLM-4.5+ answer HTTP 200.
      if (openai) return fail(400, '400', `This model's maximum context length is ${this.options.contextTokens} tokens. However, you requested ${promptTokens} tokens in the messages.`)
      if (familyOf(body.model) === 'glm-4') return fail(400, '1261', defaultMessage('1261'))
      overflow = true
    }
    const reply: EmulatedReply = fault.empty || overflow ? { content: '' } : await this.#reply(record)
    const requestId = typeof body.request_id === 'string' ? body.request_id : newId()
    // Reasoning only where this model and its switches say (families.ts); the policy's text, else a default.
    const place = reasoningPlace(body, openai)
    const reasoning = place === 'none' || overflow || fault.empty ? '' : (reply.reasoning ?? DEFAULT_REASONING)
    const content = place === 'think_tags' && reasoning ? `<think>${reasoning}</think>\n\n${reply.content}` : reply.content
    const toolFinish = openai && this.options.legacyFunctionCall ? 'function_call' : 'tool_calls'
    const finishReason = overflow ? 'model_context_window_exceeded' : (fault.finishReason ?? reply.finishReason ?? (reply.toolCalls?.length ? toolFinish : 'stop'))
    const usage = { prompt_tokens: promptTokens, completion_tokens: estimateTokens(content) + (place === 'reasoning_content' ? estimateTokens(reasoning) : 0), total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    const created = Math.floor(Date.now() / 1000)
    const toolCalls = reply.toolCalls?.map((t, index) => ({ id: t.id ?? `call_${randomBytes(8).toString('hex')}`, index, type: 'function', function: { name: t.name, arguments: t.arguments } }))

    if (!body.stream) {
      const message: Record<string, unknown> = { content, role: 'assistant' }
      if (place === 'reasoning_content' && reasoning) message.reasoning_content = reasoning
      if (toolCalls) message.tool_calls = toolCalls
      return send(res, 200, { choices: [{ finish_reason: finishReason, index: 0, message }], created, id: requestId, model: body.model, request_id: requestId, usage })
    }

    res.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8', 'cache-control': 'no-cache', connection: 'keep-alive' })
    const base = { id: requestId, created, model: body.model, ...((openai || chunksCarryObject(body.model)) && { object: 'chat.completion.chunk' }) }
    const write = (data: string) => new Promise<void>((resolve) => res.write(`data: ${data}\n\n`, () => resolve()))
    const chunk = (delta: Record<string, unknown>) => write(JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', ...delta } }] }))
    const size = this.options.chunkSize ?? 4
    // §7: thinking models stream reasoning_content chunks before the first content chunk.
    const pieces = (place === 'reasoning_content' ? splitChars(reasoning, size).map((p): Record<string, string> => ({ reasoning_content: p })) : []).concat(splitChars(content, size).map((p) => ({ content: p })))
    let sent = 0
    for (const delta of pieces) {
      if (fault.cutAfterChunks !== undefined && sent >= fault.cutAfterChunks) return void res.destroy()
      if (fault.malformedAfterChunks !== undefined && sent >= fault.malformedAfterChunks) {
        await write('{"id":"broken","choices":[{"delta":{"content":"')
        return void res.end()
      }
      if (fault.streamError && sent >= (fault.streamError.afterChunks ?? 0)) {
        await write(JSON.stringify({ error: { code: fault.streamError.code, message: fault.streamError.message } }))
        return void res.end()
      }
      await chunk(delta)
      sent++
      if (this.options.chunkDelayMs) await sleep(this.options.chunkDelayMs)
      if (res.destroyed) return
    }
    if (fault.cutAfterChunks !== undefined) return void res.destroy()
    if (fault.streamError) {
      await write(JSON.stringify({ error: { code: fault.streamError.code, message: fault.streamError.message } }))
      return void res.end()
    }
    if (toolCalls) {
      // §8: vLLM and OpenAI always fragment calls by index; GLM does with tool_stream (glm-4.6+),
      // and otherwise sends each call whole, one per chunk.
      const fragmented = openai || (body.tool_stream === true && acceptsToolStream(body.model))
      for (const call of toolCalls) {
        if (!fragmented) {
          await chunk({ tool_calls: [call] })
          continue
        }
        const args = typeof call.function.arguments === 'string' ? call.function.arguments : JSON.stringify(call.function.arguments)
        await chunk({ tool_calls: [{ index: call.index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] })
        for (const piece of splitChars(args, 3)) await chunk({ tool_calls: [{ index: call.index, function: { arguments: piece } }] })
      }
    }
    // §3/§8: GLM puts usage in the last chunk; the OpenAI-compatible servers only when asked,
    // in a chunk of their own with no choices.
    const usageHere = !openai
    await write(JSON.stringify({ ...base, choices: [{ index: 0, finish_reason: finishReason, delta: { role: 'assistant', content: '' } }], ...(usageHere && { usage }) }))
    if (openai && body.stream_options?.include_usage === true) await write(JSON.stringify({ ...base, choices: [], usage }))
    await write('[DONE]')
    res.end()
  }

  async #reply(record: RecordedRequest): Promise<EmulatedReply> {
    const policy = this.reply
    if (typeof policy === 'function') {
      const r = await policy(record)
      return typeof r === 'string' ? { content: r } : r
    }
    if (policy.type === 'lines') {
      const line = policy.lines[this.#lineIndex % policy.lines.length] ?? ''
      this.#lineIndex++
      return { content: line }
    }
    const messages = (record.body as { messages: Array<{ role: string; content: string }> }).messages
    const last = [...messages].reverse().find((m) => m.role === 'user')
    return { content: `echo: ${last?.content ?? ''}` }
  }

  #embeddings(body: any, res: ServerResponse, fail: (s: number, c: string, m: string) => void): void {
    const model = EMBEDDING_MODELS[body.model]
    if (!model) return fail(400, '1211', '模型不存在，请检查模型代码。')
    const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input]
    if (inputs.length === 0 || inputs.some((s) => typeof s !== 'string' || s === '')) return fail(400, '1214', 'input 参数非法。请检查文档。')
    if (inputs.length > model.maxInputs) return fail(400, '1214', `input 数组长度不能超过 ${model.maxInputs}`)
    const dims = body.dimensions ?? model.default
    if (!model.dims.includes(dims)) return fail(400, '1214', 'dimensions 参数非法。请检查文档。')
    // §5/§8 token limits; the code GLM answers with is UNCONFIRMED, 1214 ("parameter invalid") is the nearest documented.
    const counts = (inputs as string[]).map(estimateTokens)
    if (counts.some((n) => n > model.maxTokensPerInput)) return fail(400, '1214', `input 超长：${body.model} 每条输入最多 ${model.maxTokensPerInput} tokens`)
    if (counts.reduce((a, b) => a + b, 0) > model.maxTokensPerCall) return fail(400, '1214', `input 超长：${body.model} 每次请求最多 ${model.maxTokensPerCall} tokens`)
    const data = (inputs as string[]).map((text, index) => ({ index, object: 'embedding', embedding: embed(text, dims) }))
    const tokens = (inputs as string[]).reduce((n, s) => n + estimateTokens(s), 0)
    send(res, 200, { model: body.model, object: 'list', data, usage: { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens } })
  }
}

export async function startGlmEmulator(options: EmulatorOptions = {}): Promise<GlmEmulator> {
  return new GlmEmulator(options).listen()
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool'])

/** GLM's request rules, the stricter GLM-4-era ones where sources differ (see glm-api.md §2). */
export function validateChat(body: any, models: string[]): { code: string; message: string } | undefined {
  if (typeof body.model !== 'string' || body.model === '') return { code: '1213', message: '未正常接收到model参数。' }
  if (!models.includes(body.model)) return { code: '1211', message: '模型不存在，请检查模型代码。' }
  if (body.messages === undefined) return { code: '1213', message: '未正常接收到prompt参数。' }
  const messages = body.messages
  if (!Array.isArray(messages) || messages.length === 0) return { code: '1214', message: 'messages 参数非法。请检查文档。' }
  for (const [i, m] of messages.entries()) {
    if (!m || typeof m !== 'object' || !ROLES.has(m.role)) return { code: '1214', message: `messages[${i}].role 参数非法。请检查文档。` }
    const empty = m.content === undefined || m.content === null || (typeof m.content === 'string' && m.content.trim() === '')
    if (empty && !(m.role === 'assistant' && m.tool_calls)) return { code: '1214', message: `messages[${i}].content 不能为空` }
    if (typeof m.content !== 'string' && !Array.isArray(m.content) && !(m.role === 'assistant' && m.tool_calls)) return { code: '1214', message: `messages[${i}].content 参数非法。请检查文档。` }
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string') return { code: '1214', message: `messages[${i}].tool_call_id 参数非法。请检查文档。` }
  }
  if (messages.every((m: { role: string }) => m.role === 'system' || m.role === 'assistant')) {
    return { code: '1214', message: 'messages 参数非法。请检查文档。' }
  }
  // Ranges per family (families.ts): GLM-4-era open intervals for the GLM-4 line, §8's for 4.5+.
  const range = rangeProblem(body)
  if (range) return { code: '1214', message: `${range} 参数非法。请检查文档。` }
  if (body.thinking !== undefined && !(body.thinking && ['enabled', 'disabled'].includes(body.thinking.type))) return { code: '1214', message: 'thinking 参数非法。请检查文档。' }
  if (body.user_id !== undefined && !(typeof body.user_id === 'string' && body.user_id.length >= 6 && body.user_id.length <= 128)) return { code: '1214', message: 'user_id 参数非法。请检查文档。' }
  if (body.stop !== undefined && (!Array.isArray(body.stop) || body.stop.length > 1)) return { code: '1214', message: 'stop 参数非法。请检查文档。' }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return { code: '1214', message: 'stream 参数非法。请检查文档。' }
  if (body.tools !== undefined && (!Array.isArray(body.tools) || body.tools.length > 128)) return { code: '1214', message: 'tools 参数非法。请检查文档。' }
  if (body.tool_choice !== undefined && body.tool_choice !== 'auto') return { code: '1214', message: 'tool_choice 参数非法。请检查文档。' }
  return undefined
}

/** 401 codes per glm-api.md §1: 1001 no header, 1002 bad token, 1003 expired JWT. */
function checkAuth(header: string | undefined, key: string): { code: string; message: string } | undefined {
  if (!header) return { code: '1001', message: 'Header中未收到Authorization参数，无法进行身份验证。' }
  const token = header.replace(/^Bearer\s+/i, '')
  if (token === key) return undefined
  const dot = key.indexOf('.')
  const parts = token.split('.')
  if (dot > 0 && parts.length === 3) {
    const [h, p, s] = parts as [string, string, string]
    const expected = createHmac('sha256', key.slice(dot + 1)).update(`${h}.${p}`).digest('base64url')
    if (expected === s) {
      try {
        const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
        if (payload.api_key !== key.slice(0, dot)) return { code: '1002', message: 'Authorization Token非法，请确认Authorization Token正确传递。' }
        if (typeof payload.exp !== 'number' || payload.exp < Date.now()) return { code: '1003', message: 'Authorization Token已过期，请重新生成/获取。' }
        return undefined
      } catch {
        // falls through to invalid
      }
    }
  }
  return { code: '1002', message: 'Authorization Token非法，请确认Authorization Token正确传递。' }
}

function defaultMessage(code: string | undefined): string {
  const messages: Record<string, string> = {
    '1113': '余额不足或无可用资源包,请充值。',
    '1302': '您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。',
    '1303': '您当前使用该API的频率过高，请降低频率，或联系客服增加限额。',
    '1304': '该API已达今日调用次数限额，如有更多需求，请联系客服购买。',
    '1305': '该模型当前访问量过大，请您稍后再试',
    '1301': '系统检测到输入或生成内容可能包含不安全或敏感内容，请您避免输入易产生敏感内容的提示语，感谢您的配合。',
    '1261': 'Prompt 超长',
    '500': '服务内部错误',
  }
  return (code && messages[code]) ?? '服务暂时不可用'
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function newId(): string {
  const d = new Date()
  const stamp = d.toISOString().replace(/\D/g, '').slice(0, 14)
  return `${stamp}${randomBytes(8).toString('hex')}`
}

function splitChars(text: string, size: number): string[] {
  const chars = Array.from(text)
  const out: string[] = []
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''))
  return out
}

/** Roughly GLM's tokenizer: a CJK character is about a token, other text about four characters. */
export function estimateTokens(text: string): number {
  let cjk = 0
  for (const ch of text) if (/[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]/.test(ch)) cjk++
  return cjk + Math.ceil((text.length - cjk) / 4)
}

/** Deterministic bag-of-bigrams vectors: similar texts get similar embeddings, as a real model's would. */
function embed(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0)
  const chars = Array.from(text.toLowerCase())
  for (let i = 0; i < chars.length; i++) {
    const gram = chars[i]! + (chars[i + 1] ?? '')
    let h = 2166136261
    for (const c of gram) h = Math.imul(h ^ c.codePointAt(0)!, 16777619)
    v[(h >>> 0) % dims]! += 1
  }
  const norm = Math.hypot(...v) || 1
  return v.map((x) => x / norm)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
