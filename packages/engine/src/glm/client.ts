import ky, { HTTPError, TimeoutError, type KyInstance, type Options as KyOptions } from 'ky'
import { GlmError, isContextOverflow, isGlmError, isRetryable, isRetryableCode, parseErrorBody } from './errors.ts'
import { ThinkTagFilter, splitThinkTags } from './think-tags.ts'
import { ToolCallCollector, argumentsText, wholeToolCalls, type RawToolCall } from './tool-calls.ts'
import { normalizeSampling, validateChatRequest } from './validate.ts'
import { signGlmJwt } from './jwt.ts'
import { readSseData } from './sse.ts'
import { BodyIdleError, fetchIsPlain, nodeTransport, type NodeReply, type NodeTransport } from './node-http.ts'
import type { ChatCompletion, ChatRequest, ChatStreamEvent, EmbeddingRequest, EmbeddingResponse, GlmToolCall, Usage } from './types.ts'

export const DEFAULT_GLM_BASE_URL = 'https://open.bigmodel.cn/api/paas/v4'

export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number
  error: GlmError
}

export interface GlmClientOptions {
  apiKey?: string | undefined
  /** Any OpenAI-compatible base works too (Ollama's `/v1`, vLLM). */
  baseUrl?: string | undefined
  /** `key` sends the raw key as Bearer (what the SDK does today); `jwt` signs a short-lived token from `id.secret`. */
  auth?: 'key' | 'jwt'
  /** Per attempt, until response headers arrive. Default 60 s. */
  timeoutMs?: number
  /** Longest silence between two chunks of an answer, streamed or (on Node) read whole. Default: timeoutMs (for an answer read whole, the call's own timeoutMs if it has one). */
  streamIdleTimeoutMs?: number
  retry?: { limit?: number; baseDelayMs?: number; maxDelayMs?: number; maxRetryAfterMs?: number }
  /** Injected fetch, for tests and for mounting in unusual runtimes. */
  fetch?: typeof fetch
  headers?: Record<string, string>
}

export interface CallOptions {
  signal?: AbortSignal | undefined
  onRetry?: ((info: RetryInfo) => void) | undefined
  /** This call's wait for response headers, instead of the client's `timeoutMs`. */
  timeoutMs?: number | undefined
  /**
   * Whether a timed-out attempt is sent again. Default true. A non-streamed call to a thinking
   * model that timed out is still being generated, and billed, on the server: sending it again
   * would pay twice for one answer, so the GLM provider turns this off for such calls.
   */
  retryOnTimeout?: boolean | undefined
}

type Attached = HTTPError & { glm?: { glmCode?: string; message?: string; requestId?: string } }

/** What one logical call carries beside ky: its body (re-sent on each attempt) and request id. */
interface CallState {
  requestId: string
  payload: Record<string, unknown>
  body: string
  onRetry?: CallOptions['onRetry']
  /** The fast first attempt's failure, handed to ky as its own first attempt (see #firstAttempt). */
  replay?: { response: Response } | { error: unknown } | undefined
}

/** The finish reason GLM answers with HTTP 200 when the prompt does not fit (glm-api.md §8). */
const OVERFLOW_FINISH = 'model_context_window_exceeded'

let counter = 0
/** One id per logical call, sent as `request_id` and kept across retries so GLM can deduplicate. */
export function newRequestId(): string {
  counter = (counter + 1) % 1e6
  return `parley-${Date.now().toString(36)}-${counter.toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

export class GlmClient {
  readonly baseUrl: string
  readonly #options: GlmClientOptions
  readonly #http: KyInstance
  #jwt: { token: string; until: number } | undefined
  readonly #keyHeader: string | undefined
  /** The caller's `headers` carry an authorization of their own (names are case-insensitive), which is kept. */
  readonly #ownAuthorization: boolean
  /** node:http for buffered first attempts, where there is one and no `fetch` was given (node-http.ts). */
  readonly #node: NodeTransport | undefined

  constructor(options: GlmClientOptions = {}) {
    this.#options = options
    this.baseUrl = (options.baseUrl ?? DEFAULT_GLM_BASE_URL).replace(/\/+$/, '')
    this.#keyHeader = options.apiKey ? `Bearer ${options.apiKey}` : undefined
    this.#ownAuthorization = Object.keys(options.headers ?? {}).some((name) => name.toLowerCase() === 'authorization')
    this.#node = options.fetch ? undefined : nodeTransport(this.baseUrl)
    const retry = options.retry ?? {}
    const base = retry.baseDelayMs ?? 500
    const send = options.fetch ?? globalThis.fetch
    this.#http = ky.create({
      prefixUrl: this.baseUrl,
      timeout: options.timeoutMs ?? 60_000,
      // ky wraps every attempt in a Request and tees its body for retries, so fetch would send the
      // body as a stream of unknown length (chunked, written piecewise: a tenth of a turn's CPU in
      // the profile). We hold the body as a string and send that, sized, on every attempt.
      fetch: (input, init) => {
        const { parleyCall, ...rest } = (init ?? {}) as RequestInit & { parleyCall?: CallState }
        if (parleyCall === undefined || !(input instanceof Request)) return send(input as RequestInfo, init)
        const replay = parleyCall.replay
        if (replay !== undefined) {
          // ky's first attempt is the one already made outside it: ky classifies its outcome,
          // decides on a retry (Retry-After, 1231, 1003) and runs the hooks exactly as if it had sent it.
          parleyCall.replay = undefined
          if ('response' in replay) return Promise.resolve(replay.response)
          return Promise.reject(replay.error)
        }
        return send(input.url, { ...rest, method: input.method, headers: input.headers, body: parleyCall.body, signal: input.signal, redirect: input.redirect })
      },
      // A redirect is answered, never followed: it surfaces as an HTTP error with its status (see #firstAttempt).
      redirect: 'manual',
      retry: {
        limit: retry.limit ?? 3,
        methods: ['post'],
        statusCodes: [408, 409, 429, 500, 502, 503, 504],
        afterStatusCodes: [429, 503],
        maxRetryAfter: retry.maxRetryAfterMs ?? 30_000,
        backoffLimit: retry.maxDelayMs ?? 8_000,
        delay: (n) => base * 2 ** (n - 1),
        jitter: (d) => d * (0.75 + Math.random() * 0.25),
        retryOnTimeout: true,
        shouldRetry: ({ error, retryCount }) => this.#shouldRetry(error, retryCount),
      },
      hooks: {
        // One instance-level hook; the call it belongs to travels as an option, so no hooks are
        // merged per call.
        beforeRetry: [
          async ({ request, options, error, retryCount }) => {
            if (this.#options.auth === 'jwt' && this.#options.apiKey) request.headers.set('authorization', await this.#jwtHeader())
            const call = (options as unknown as { parleyCall?: CallState }).parleyCall
            if (!call) return
            const glmError = toGlmError(error, call.requestId)
            // 1231 "you already have a request <id>": the same id cannot succeed, a fresh one can.
            if (glmError.glmCode === '1231' && typeof call.payload.request_id === 'string') {
              call.requestId = newRequestId()
              call.payload = { ...call.payload, request_id: call.requestId }
              call.body = JSON.stringify(call.payload)
            }
            call.onRetry?.({ attempt: retryCount, error: glmError })
          },
        ],
        beforeError: [
          async (error: Attached) => {
            const text = await error.response.text().catch(() => '')
            error.glm = parseErrorBody(text)
            return error
          },
        ],
      },
    })
  }

  async #shouldRetry(error: Error, retryCount: number): Promise<boolean | undefined> {
    if (error.name === 'AbortError') return false
    if (error instanceof HTTPError) {
      const code = (error as Attached).glm?.glmCode
      // An expired JWT is fixed by signing a new one: worth exactly one more try.
      if (code === '1003' && this.#options.auth === 'jwt') {
        this.#jwt = undefined
        return retryCount <= 1
      }
      // Answered once, with a fresh request_id (see beforeRetry).
      if (code === '1231') return retryCount <= 1
      // undefined lets ky apply its status rules, which honour Retry-After.
      return isRetryable(error.response.status, code) ? undefined : false
    }
    return undefined
  }

  /** A fresh-enough SDK-style JWT: cached for 3 minutes of its 3.5-minute life, as the official SDK does. */
  async #jwtHeader(): Promise<string> {
    const now = Date.now()
    if (!this.#jwt || this.#jwt.until <= now) {
      this.#jwt = { token: await signGlmJwt(this.#options.apiKey ?? '', 210_000, now), until: now + 180_000 }
    }
    return `Bearer ${this.#jwt.token}`
  }

  /**
   * `release` unlinks the caller's signal from the response once its body has been read. A
   * `buffered` call (its body read whole, not streamed) may be answered by node:http's reply.
   */
  async #post(path: string, payload: Record<string, unknown>, requestId: string, call: CallOptions, buffered: true): Promise<{ response: Response | NodeReply; state: CallState; release: () => void }>
  async #post(path: string, payload: Record<string, unknown>, requestId: string, call: CallOptions, buffered: false): Promise<{ response: Response; state: CallState; release: () => void }>
  async #post(path: string, payload: Record<string, unknown>, requestId: string, call: CallOptions, buffered: boolean): Promise<{ response: Response | NodeReply; state: CallState; release: () => void }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.#options.headers }
    const auth = this.#options.auth === 'jwt' && this.#options.apiKey ? await this.#jwtHeader() : this.#keyHeader
    if (auth && !this.#ownAuthorization) headers.authorization = auth
    // The body travels beside ky, not through it: a Request built with a body costs a stream, a tee
    // and a cancel per attempt, growing with the body. ky still owns retries, timeouts and hooks.
    const state: CallState = { requestId, payload, body: JSON.stringify(payload), ...(call.onRetry && { onRetry: call.onRetry }) }
    const timeoutMs = call.timeoutMs ?? this.#options.timeoutMs ?? 60_000
    const first = await this.#firstAttempt(path, state.body, headers, timeoutMs, call.signal, buffered, call.retryOnTimeout !== false)
    if ('reply' in first.outcome) return { response: first.outcome.reply, state, release: first.release }
    if ('response' in first.outcome && first.outcome.response.ok) return { response: first.outcome.response, state, release: first.release }
    first.release()
    if ('error' in first.outcome && call.signal?.aborted) throw toGlmError(first.outcome.error, state.requestId, call.signal)
    state.replay = first.outcome
    const options: KyOptions & { parleyCall: CallState } = { parleyCall: state, headers }
    if (call.signal) options.signal = call.signal
    if (call.timeoutMs !== undefined) options.timeout = call.timeoutMs
    if (call.retryOnTimeout === false) options.retry = { retryOnTimeout: false }
    try {
      return { response: await this.#http.post(path, options), state, release: noop }
    } catch (error) {
      throw toGlmError(error, state.requestId, call.signal)
    }
  }

  /**
   * The first attempt, sent with plain fetch: ky's per-attempt work (a Request, option merging,
   * its timeout race) was most of the client's cost over a bare call. A failure is not judged
   * here: it is handed to ky as ky's own first attempt, so classification and retries stay ky's.
   */
  async #firstAttempt(path: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal | undefined, buffered: boolean, retryOnTimeout: boolean): Promise<{ outcome: { reply: NodeReply } | { response: Response } | { error: unknown }; release: () => void }> {
    const send = this.#options.fetch ?? globalThis.fetch
    const controller = new AbortController()
    let timedOut = false
    // A timer cleared once headers arrive, as ky's is: AbortSignal.timeout would also cut a long
    // stream's body short.
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, Math.min(timeoutMs, 2_147_483_647))
    // The caller's signal also ends a stream's body after the headers, as it does through ky. A
    // listener, released once the body is read, costs less than AbortSignal.any's weak links.
    let release = noop
    if (signal) {
      const onAbort = () => controller.abort(signal.reason)
      if (signal.aborted) onAbort()
      else {
        signal.addEventListener('abort', onAbort, { once: true })
        release = () => signal.removeEventListener('abort', onAbort)
      }
    }
    const url = `${this.baseUrl}/${path}`
    try {
      if (buffered && this.#node && fetchIsPlain()) {
        // A call that must not be paid for twice (retryOnTimeout: false) is not re-sent on a reset
        // either. A call given longer to answer (a thinking call) is given as long between chunks:
        // fetch, before, gave a body all the time it took.
        const reply = await this.#node.post(url, headers, body, controller.signal, { idleMs: this.#options.streamIdleTimeoutMs ?? timeoutMs, resendOnReset: retryOnTimeout })
        // A failed status goes to ky as fetch's Response would; node:http never follows a redirect.
        return { outcome: reply.ok ? { reply } : { response: await reply.toResponse() }, release }
      }
      // Without a window and with redirects refused, undici sends the request as it is instead of
      // cloning it (and teeing its body) for a redirect it might follow: a tenth of a bare call.
      return { outcome: { response: await send(url, { method: 'POST', headers, body, signal: controller.signal, redirect: 'error', window: null }) }, release }
    } catch (error) {
      // The base URL redirected (GLM's never does): the 3xx itself goes to ky, which reports its status.
      if (isRedirectRefused(error) && !controller.signal.aborted) {
        try {
          return { outcome: { response: await send(url, { method: 'POST', headers, body, signal: controller.signal, redirect: 'manual' }) }, release }
        } catch (again) {
          error = again
        }
      }
      // ky's own timeout error, so its retryOnTimeout rule applies to the replay as to its attempts.
      return { outcome: { error: timedOut ? new TimeoutError(new Request(url, { method: 'POST' })) : error }, release }
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * One chat completion. Retries transient failures; throws GlmError when the call cannot succeed
   * (`context_exceeded` when the prompt does not fit). Reasoning, whether in `reasoning_content`
   * or as `<think>` in the content, comes back apart from the spoken `content`.
   */
  async chat(request: ChatRequest, call: CallOptions = {}): Promise<ChatCompletion> {
    const body = prepare(request)
    const { response, state, release } = await this.#post('chat/completions', body as unknown as Record<string, unknown>, body.request_id!, call, true)
    const requestId = state.requestId
    const json = parseJson<RawCompletion>(await readBody(response, requestId, call.signal, release), requestId, 'GLM sent a response that is not JSON')
    const choice = json.choices?.[0]
    if (!choice?.message) throw new GlmError({ kind: 'invalid_response', message: 'GLM response has no choices[0].message', requestId })
    if (choice.finish_reason === OVERFLOW_FINISH) throw overflow(requestId)
    const { spoken, reasoning } = splitThinkTags(choice.message.content ?? '')
    const allReasoning = (choice.message.reasoning_content ?? '') + reasoning
    return {
      id: json.id ?? requestId,
      requestId: json.request_id ?? requestId,
      model: json.model ?? request.model,
      created: json.created ?? Math.floor(Date.now() / 1000),
      content: spoken,
      reasoningContent: allReasoning || undefined,
      toolCalls: wholeToolCalls(choice.message.tool_calls, requestId) ?? legacyCall(choice.message.function_call, requestId),
      finishReason: choice.finish_reason ?? 'stop',
      usage: json.usage,
    }
  }

  /**
   * Streams a chat completion as events: spoken deltas, reasoning deltas (kept apart), tool calls,
   * and a final `finish` with usage. Ends only on `data: [DONE]`; a body that stops short or a
   * malformed chunk throws `stream_interrupted` with the text so far in `partialText`.
   */
  async *chatStream(request: ChatRequest, call: CallOptions = {}): AsyncGenerator<ChatStreamEvent> {
    const body = { ...prepare(request), stream: true }
    const { response, state, release } = await this.#post('chat/completions', body as unknown as Record<string, unknown>, body.request_id!, call, false)
    const requestId = state.requestId
    if (!response.body) {
      release()
      throw new GlmError({ kind: 'invalid_response', message: 'GLM stream has no body', requestId })
    }
    const idleMs = this.#options.streamIdleTimeoutMs ?? this.#options.timeoutMs ?? 60_000
    let text = ''
    let reasoning = ''
    let finishReason: string | undefined
    let usage: Usage | undefined
    const toolCalls = new ToolCallCollector()
    const tags = new ThinkTagFilter()
    let done = false
    const fail = (kind: 'stream_interrupted' | 'aborted' | 'timeout', message: string, cause?: unknown) =>
      new GlmError({ kind, message, requestId, partialText: text, retryable: kind !== 'aborted', cause })

    const source = readSseData(response.body)
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    const interrupt = new Promise<never>((_, reject) => {
      onAbort = () => reject(fail('aborted', 'the call was cancelled'))
      call.signal?.addEventListener('abort', onAbort, { once: true })
    })
    interrupt.catch(() => {})
    const next = () => {
      clearTimeout(timer)
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(fail('timeout', `no stream data for ${idleMs} ms`)), idleMs)
      })
      return Promise.race([source.next(), interrupt, idle])
    }
    try {
      if (call.signal?.aborted) throw fail('aborted', 'the call was cancelled')
      for (;;) {
        const step = await next()
        if (step.done) break
        const data = step.value
        if (data.startsWith('[DONE]')) {
          done = true
          break
        }
        let chunk: RawChunk
        try {
          chunk = JSON.parse(data) as RawChunk
        } catch (error) {
          throw fail('stream_interrupted', `GLM sent a malformed stream chunk: ${data.slice(0, 80)}`, error)
        }
        if (chunk.error) {
          const info = parseErrorBody(JSON.stringify({ error: chunk.error }))
          if (isContextOverflow(undefined, info.glmCode, info.message)) throw overflow(requestId)
          // Judged by its code alone: 1301 (unsafe content) mid-stream is as final as it is at the start.
          throw new GlmError({ kind: 'stream_error', message: info.message ?? 'GLM reported an error mid-stream', glmCode: info.glmCode, requestId, partialText: text, retryable: isRetryableCode(info.glmCode) })
        }
        if (chunk.usage) usage = chunk.usage
        const choice = chunk.choices?.[0]
        if (!choice) continue
        const delta = choice.delta ?? {}
        if (delta.reasoning_content) {
          reasoning += delta.reasoning_content
          yield { type: 'reasoning', content: delta.reasoning_content }
        }
        if (delta.content) {
          const split = tags.push(delta.content)
          if (split.reasoning) {
            reasoning += split.reasoning
            yield { type: 'reasoning', content: split.reasoning }
          }
          if (split.spoken) {
            text += split.spoken
            yield { type: 'delta', content: split.spoken }
          }
        }
        if (delta.tool_calls?.length) toolCalls.add(delta.tool_calls)
        if (choice.finish_reason) finishReason = choice.finish_reason
        if (finishReason === OVERFLOW_FINISH) throw overflow(requestId)
      }
    } catch (error) {
      if (isGlmError(error)) throw error
      throw fail('stream_interrupted', `the stream broke: ${(error as Error).message}`, error)
    } finally {
      clearTimeout(timer)
      if (onAbort) call.signal?.removeEventListener('abort', onAbort)
      void source.return(undefined)
      release()
    }
    if (!done) throw fail('stream_interrupted', 'the stream ended without [DONE]')
    const rest = tags.end()
    if (rest.reasoning) reasoning += rest.reasoning
    if (rest.spoken) {
      text += rest.spoken
      yield { type: 'delta', content: rest.spoken }
    }
    if (toolCalls.size > 0) yield { type: 'tool_calls', toolCalls: toolCalls.calls(requestId) }
    yield { type: 'finish', finishReason: finishReason ?? 'stop', usage, requestId, text, reasoning }
  }

  async embeddings(request: EmbeddingRequest, call: CallOptions = {}): Promise<EmbeddingResponse> {
    const inputs = Array.isArray(request.input) ? request.input : [request.input]
    if (inputs.length === 0 || inputs.some((s) => typeof s !== 'string' || s === '')) {
      throw new GlmError({ kind: 'invalid_request', message: 'embedding input must be non-empty text' })
    }
    if (request.model === 'embedding-3' && inputs.length > 64) {
      throw new GlmError({ kind: 'invalid_request', message: 'embedding-3 takes at most 64 inputs per call' })
    }
    const requestId = newRequestId()
    const { response, release } = await this.#post('embeddings', request as unknown as Record<string, unknown>, requestId, call, true)
    const json = parseJson<Partial<EmbeddingResponse>>(await readBody(response, requestId, call.signal, release), requestId, 'GLM sent an embeddings response that is not JSON')
    const data = Array.isArray(json.data) ? json.data : undefined
    if (!data || !data.every((d) => Number.isInteger(d?.index) && Array.isArray(d.embedding) && d.index >= 0 && d.index < inputs.length)) {
      throw new GlmError({ kind: 'invalid_response', message: 'GLM embeddings response has no valid data[] (index and embedding per input)', requestId })
    }
    return { model: json.model ?? request.model, data: data.map((d) => ({ index: d.index, embedding: d.embedding })), usage: json.usage! }
  }
}

export function createGlmClient(options: GlmClientOptions = {}): GlmClient {
  return new GlmClient(options)
}

function prepare(request: ChatRequest): ChatRequest {
  validateChatRequest(request)
  const body = normalizeSampling(request)
  return body.request_id ? body : { ...body, request_id: newRequestId() }
}

export function toGlmError(error: unknown, requestId: string, signal?: AbortSignal): GlmError {
  if (isGlmError(error)) return error
  if (error instanceof HTTPError) {
    const info = (error as Attached).glm ?? {}
    const status = error.response.status
    return new GlmError({
      kind: isContextOverflow(status, info.glmCode, info.message) ? 'context_exceeded' : 'http',
      status,
      glmCode: info.glmCode,
      message: info.message ?? `GLM answered HTTP ${status}`,
      requestId: info.requestId ?? requestId,
      retryable: isRetryable(status, info.glmCode),
      cause: error,
    })
  }
  if (error instanceof TimeoutError) {
    return new GlmError({ kind: 'timeout', message: 'GLM did not answer in time', requestId, retryable: true, cause: error })
  }
  if (signal?.aborted || (error as Error)?.name === 'AbortError') {
    return new GlmError({ kind: 'aborted', message: 'the call was cancelled', requestId, cause: error })
  }
  // The answer began and then stalled past the idle limit (node-http.ts).
  if (error instanceof BodyIdleError) {
    return new GlmError({ kind: 'timeout', message: error.message, requestId, retryable: true, cause: error })
  }
  return new GlmError({ kind: 'network', message: `cannot reach GLM: ${(error as Error)?.message ?? String(error)}`, requestId, retryable: true, cause: error })
}

const noop = () => {}

/** The whole body; a call cancelled or cut off while it is read is that, not a malformed reply. */
async function readBody(response: Pick<Response, 'text'>, requestId: string, signal: AbortSignal | undefined, release: () => void): Promise<string> {
  try {
    return await response.text()
  } catch (error) {
    throw toGlmError(error, requestId, signal)
  } finally {
    release()
  }
}

function parseJson<T>(text: string, requestId: string, message: string): T {
  try {
    return JSON.parse(text) as T
  } catch (error) {
    throw new GlmError({ kind: 'invalid_response', message, requestId, retryable: false, cause: error })
  }
}

/** fetch's refusal of a redirect under `redirect: 'error'` (undici: "fetch failed", caused by "unexpected redirect"). */
function isRedirectRefused(error: unknown): boolean {
  return error instanceof TypeError && (error.cause as Error | undefined)?.message === 'unexpected redirect'
}

function overflow(requestId: string): GlmError {
  return new GlmError({ kind: 'context_exceeded', message: 'the prompt does not fit the model\'s context window', requestId, retryable: false })
}

/** Older OpenAI-style servers (GLM-4's own demo server) answer `function_call` without an id. */
function legacyCall(call: { name: string; arguments: unknown } | null | undefined, requestId: string): GlmToolCall[] | undefined {
  return call ? [{ id: `call_${requestId}`, type: 'function', function: { name: call.name, arguments: argumentsText(call.arguments) || '{}' } }] : undefined
}

interface RawCompletion {
  id?: string
  request_id?: string
  model?: string
  created?: number
  choices?: Array<{ finish_reason?: string; message?: { content?: string | null; reasoning_content?: string | null; tool_calls?: RawToolCall[] | null; function_call?: { name: string; arguments: unknown } | null } }>
  usage?: Usage
}

interface RawChunk {
  choices?: Array<{ finish_reason?: string | null; delta?: { content?: string | null; reasoning_content?: string | null; tool_calls?: RawToolCall[] } }>
  usage?: Usage
  error?: unknown
}
