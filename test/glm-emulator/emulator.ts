/**
 * A GLM v4 chat API on 127.0.0.1 for tests, written from ../../../shared/glm-api.md rather than
 * from what our client sends: it rejects what GLM rejects, answers in GLM's shapes (no `object`
 * field, string error codes, SSE ending in `data: [DONE]`, usage only in the last chunk) and
 * injects faults on demand.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createHmac, randomBytes } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'

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
  arguments: string
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
}

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
}

export const DEFAULT_MODELS = ['glm-4', 'glm-4-flash', 'glm-4-flashx', 'glm-4-air', 'glm-4-airx', 'glm-4-plus', 'glm-4-long', 'glm-4.5', 'glm-4.5-air', 'glm-4.5-flash', 'glm-4.6', 'glm-4.7-flash']
const EMBEDDING_MODELS: Record<string, { dims: number[]; default: number; maxInputs: number }> = {
  'embedding-3': { dims: [256, 512, 1024, 2048], default: 2048, maxInputs: 64 },
  'embedding-2': { dims: [1024], default: 1024, maxInputs: 64 },
}

export class GlmEmulator {
  readonly requests: RecordedRequest[] = []
  url = ''
  /** The OpenAI-style base (`/v1`) served by the same process. */
  openaiUrl = ''
  reply: ReplyPolicy
  readonly #faults: Fault[] = []
  #faultFn: ((request: RecordedRequest, n: number) => Fault | undefined) | undefined
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

  clearFaults(): this {
    this.#faults.length = 0
    this.#faultFn = undefined
    return this
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
    if (route === '/embeddings') return this.#embeddings(record.body, res, fail)

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

    const reply = fault.empty ? { content: '' } : await this.#reply(record)
    const body = record.body as { model: string; stream?: boolean; request_id?: string; messages: Array<{ content: unknown }> }
    const requestId = typeof body.request_id === 'string' ? body.request_id : newId()
    const finishReason = fault.finishReason ?? reply.finishReason ?? (reply.toolCalls?.length ? (openai ? 'function_call' : 'tool_calls') : 'stop')
    const promptTokens = body.messages.reduce((n: number, m) => n + estimateTokens(typeof m.content === 'string' ? m.content : JSON.stringify(m.content)), 0)
    const usage = { prompt_tokens: promptTokens, completion_tokens: estimateTokens(reply.content), total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    const created = Math.floor(Date.now() / 1000)
    const toolCalls = reply.toolCalls?.map((t, index) => ({ id: t.id ?? `call_${randomBytes(8).toString('hex')}`, index, type: 'function', function: { name: t.name, arguments: t.arguments } }))

    if (!body.stream) {
      const message: Record<string, unknown> = { content: reply.content, role: 'assistant' }
      if (reply.reasoning) message.reasoning_content = reply.reasoning
      if (toolCalls) message.tool_calls = toolCalls
      return send(res, 200, { choices: [{ finish_reason: finishReason, index: 0, message }], created, id: requestId, model: body.model, request_id: requestId, usage })
    }

    res.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8', 'cache-control': 'no-cache', connection: 'keep-alive' })
    const base = { id: requestId, created, model: body.model, ...(openai && { object: 'chat.completion.chunk' }) }
    const write = (data: string) => new Promise<void>((resolve) => res.write(`data: ${data}\n\n`, () => resolve()))
    const chunk = (delta: Record<string, unknown>) => write(JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', ...delta } }] }))
    const size = this.options.chunkSize ?? 4
    const pieces = splitChars(reply.reasoning ?? '', size).map((p): Record<string, string> => ({ reasoning_content: p })).concat(splitChars(reply.content, size).map((p) => ({ content: p })))
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
    if (toolCalls) await write(JSON.stringify({ ...base, choices: [{ index: 0, finish_reason: finishReason, delta: { role: 'assistant', tool_calls: toolCalls } }] }))
    await write(JSON.stringify({ ...base, choices: [{ index: 0, finish_reason: finishReason, delta: { role: 'assistant', content: '' } }], usage }))
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

  #embeddings(body: any, res: ServerResponse, fail: (s: number, c: string, m: string) => void) {
    const model = EMBEDDING_MODELS[body.model]
    if (!model) return fail(400, '1211', '模型不存在，请检查模型代码。')
    const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input]
    if (inputs.length === 0 || inputs.some((s) => typeof s !== 'string' || s === '')) return fail(400, '1214', 'input 参数非法。请检查文档。')
    if (inputs.length > model.maxInputs) return fail(400, '1214', `input 数组长度不能超过 ${model.maxInputs}`)
    const dims = body.dimensions ?? model.default
    if (!model.dims.includes(dims)) return fail(400, '1214', 'dimensions 参数非法。请检查文档。')
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
  const open = (name: string, v: unknown, upperInclusive: boolean) => {
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !(v > 0) || (upperInclusive ? v > 1 : v >= 1)) return { code: '1214', message: `${name} 参数非法。请检查文档。` }
    return undefined
  }
  // GLM-4-era rules, as the seed documents: temperature and top_p strictly between 0 and 1.
  const t = open('temperature', body.temperature, false) ?? open('top_p', body.top_p, false)
  if (t) return t
  if (body.max_tokens !== undefined && !(Number.isInteger(body.max_tokens) && body.max_tokens >= 1 && body.max_tokens <= 98304)) return { code: '1214', message: 'max_tokens 参数非法。请检查文档。' }
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
