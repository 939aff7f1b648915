import { GlmClient, newRequestId, type CallOptions, type GlmClientOptions } from '../glm/client.ts'
import { acceptsToolStream, serverKindOf, thinkingFields, willThink, type ServerKind } from '../glm/thinking.ts'
import type { ChatRequest, GlmToolCall } from '../glm/types.ts'
import { ProviderFailure, type Provider, type ProviderReply, type ProviderTurn, type SummaryRequest, type SummaryResult } from './types.ts'
import { clipToTokens, summaryMessages } from '../prompt/summary.ts'

export interface GlmProviderOptions extends GlmClientOptions {
  /** Overrides the NPC file's model (GLM_MODEL). */
  model?: string | undefined
  /** Reuse a client (shares its JWT cache and connection settings). */
  client?: GlmClient
  /**
   * The server behind the base URL, which decides how thinking is switched and whether usage must
   * be asked for: `glm`, `ollama`, `vllm`, or `openai` (no thinking switch). Default: from the URL.
   */
  server?: ServerKind | undefined
  /**
   * How long a non-streamed call that will think may take before its answer arrives (the answer's
   * headers come only once the whole reply, reasoning included, is written). Default 300 s, the
   * official SDK's. Such a call is never sent again after a timeout: it is still running, and
   * billed, on the server.
   */
  thinkingTimeoutMs?: number | undefined
}

const THINKING_TIMEOUT_MS = 300_000

/** What a model on this server needs in its requests: worked out once per model and setting, since each answer walks the family table's patterns. */
interface ModelProfile {
  fields: Readonly<Partial<ChatRequest>>
  thinks: boolean
  toolStream: boolean
}

/** Models come from NPC files and options, a handful per game; the bound only keeps a misuse from growing it. */
const PROFILES_KEPT = 64

function modelProfiles(server: ServerKind): (model: string, thinking: boolean) => ModelProfile {
  const kept = new Map<string, ModelProfile>()
  return (model, thinking) => {
    const key = `${thinking ? 1 : 0}${model}`
    let profile = kept.get(key)
    if (!profile) {
      if (kept.size >= PROFILES_KEPT) kept.clear()
      const fields = thinkingFields(model, server, thinking)
      for (const value of Object.values(fields)) if (typeof value === 'object' && value !== null) Object.freeze(value)
      profile = { fields: Object.freeze(fields), thinks: willThink(model, server, thinking), toolStream: server === 'glm' && acceptsToolStream(model) }
      kept.set(key, profile)
    }
    return profile
  }
}

export function glmProvider(options: GlmProviderOptions = {}): Provider {
  const client = options.client ?? new GlmClient(options)
  const server = options.server ?? serverKindOf(client.baseUrl)
  const profileOf = modelProfiles(server)
  return {
    name: 'glm',
    async reply(turn: ProviderTurn, onDelta?: (text: string) => void): Promise<ProviderReply> {
      const model = options.model ?? turn.model.name
      const profile = profileOf(model, turn.model.thinking ?? false)
      const tools = turn.tools.length > 0
      // Named here, so the client need not copy the request to add one.
      const request: ChatRequest = { model, messages: turn.messages, request_id: newRequestId() }
      // Fields set one by one rather than spread in: this runs on every turn, before the request leaves.
      if (turn.model.temperature !== undefined) request.temperature = turn.model.temperature
      if (turn.model.top_p !== undefined) request.top_p = turn.model.top_p
      if (turn.model.max_tokens !== undefined) request.max_tokens = turn.model.max_tokens
      Object.assign(request, profile.fields)
      if (tools) {
        request.tools = [...turn.tools]
        request.tool_choice = 'auto'
        // Arguments in fragments as they are written: the stream never sits silent while a call is built.
        if (onDelta && profile.toolStream) request.tool_stream = true
      }
      // Ollama and vLLM leave usage out of a stream unless asked (glm-api.md §8); GLM sends it anyway.
      if (onDelta && server !== 'glm') request.stream_options = { include_usage: true }
      if (turn.userId !== undefined) {
        if (server === 'glm') request.user_id = turn.userId
        else request.user = turn.userId
      }
      const call: CallOptions = { signal: turn.signal, onRetry: turn.onRetry }
      if (!onDelta && profile.thinks) {
        call.timeoutMs = Math.max(options.thinkingTimeoutMs ?? THINKING_TIMEOUT_MS, options.timeoutMs ?? 0)
        call.retryOnTimeout = false
      }
      let reply: ProviderReply = { text: '' }
      let toolCalls: GlmToolCall[] | undefined
      if (onDelta) {
        // The client collects the text itself and hands it over with `finish`, which always ends a stream.
        for await (const event of client.chatStream(request, call)) {
          if (event.type === 'delta') onDelta(event.content)
          else if (event.type === 'tool_calls') toolCalls = event.toolCalls
          else if (event.type === 'finish') reply = { text: event.text, reasoning: event.reasoning || undefined, finishReason: event.finishReason, usage: event.usage, requestId: event.requestId }
        }
      } else {
        const completion = await client.chat(request, call)
        toolCalls = completion.toolCalls
        reply = { text: completion.content, reasoning: completion.reasoningContent, finishReason: completion.finishReason, usage: completion.usage, requestId: completion.requestId }
      }
      const { text, finishReason } = reply
      // A reply that acts is not a spoken line: its (often empty) text is not checked like one.
      if (toolCalls?.length) return { ...reply, toolCalls }
      // Reasoning is needed only to go back with tool results; a spoken reply drops it here.
      reply = { ...reply, reasoning: undefined }
      if (finishReason === 'sensitive') throw new ProviderFailure('sensitive', 'GLM stopped the reply for content safety', text)
      if (finishReason === 'network_error') throw new ProviderFailure('network_error', 'GLM reported an inference failure', text)
      // A line cut off at max_tokens is not something an NPC should say; the game learns why.
      if (finishReason === 'length') throw new ProviderFailure('length', 'the reply hit max_tokens and was cut off', text)
      if (text.trim() === '') throw new ProviderFailure('empty_reply', 'GLM sent an empty reply')
      return reply
    },
    async summarize(request: SummaryRequest): Promise<SummaryResult> {
      const model = options.model ?? request.model.name
      const completion = await client.chat(
        {
          model,
          messages: summaryMessages(request),
          // Room for the model's own overrun (clipped below), never a whole essay.
          max_tokens: Math.max(64, Math.ceil(request.maxTokens * 1.5)),
          // A summary needs no reasoning: thinking off where the server has the switch.
          ...thinkingFields(model, server, false),
          ...(request.userId !== undefined && (server === 'glm' ? { user_id: request.userId } : { user: request.userId })),
        },
        { signal: request.signal },
      )
      if (completion.finishReason === 'sensitive') throw new ProviderFailure('sensitive', 'GLM stopped the summary for content safety')
      const text = clipToTokens(completion.content, request.maxTokens)
      if (text === '') throw new ProviderFailure('empty_reply', 'GLM sent an empty summary')
      return { text, usage: completion.usage }
    },
  }
}
