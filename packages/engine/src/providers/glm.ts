import { GlmClient, type GlmClientOptions } from '../glm/client.ts'
import type { ChatRequest, GlmToolCall } from '../glm/types.ts'
import { ProviderFailure, type Provider, type ProviderReply, type ProviderTurn } from './types.ts'

export interface GlmProviderOptions extends GlmClientOptions {
  /** Overrides the NPC file's model (GLM_MODEL). */
  model?: string | undefined
  /** Reuse a client (shares its JWT cache and connection settings). */
  client?: GlmClient
}

/** Thinking models spend seconds reasoning before the first spoken token; NPCs default to off. */
const THINKING_MODELS = /^glm-(4\.[5-9]|[5-9])/

export function glmProvider(options: GlmProviderOptions = {}): Provider {
  const client = options.client ?? new GlmClient(options)
  return {
    name: 'glm',
    async reply(turn: ProviderTurn, onDelta?: (text: string) => void): Promise<ProviderReply> {
      const model = options.model ?? turn.model.name
      const request: ChatRequest = {
        model,
        messages: turn.messages,
        ...(turn.model.temperature !== undefined && { temperature: turn.model.temperature }),
        ...(turn.model.top_p !== undefined && { top_p: turn.model.top_p }),
        ...(turn.model.max_tokens !== undefined && { max_tokens: turn.model.max_tokens }),
        ...(THINKING_MODELS.test(model) && { thinking: { type: turn.model.thinking ? 'enabled' : 'disabled' } }),
        ...(turn.tools.length > 0 && { tools: [...turn.tools], tool_choice: 'auto' as const }),
      }
      const call = { signal: turn.signal, onRetry: turn.onRetry }
      let reply: ProviderReply = { text: '' }
      let toolCalls: GlmToolCall[] | undefined
      if (onDelta) {
        // The client collects the text itself and hands it over with `finish`, which always ends a stream.
        for await (const event of client.chatStream(request, call)) {
          if (event.type === 'delta') onDelta(event.content)
          else if (event.type === 'tool_calls') toolCalls = event.toolCalls
          else if (event.type === 'finish') reply = { text: event.text, finishReason: event.finishReason, usage: event.usage, requestId: event.requestId }
        }
      } else {
        const completion = await client.chat(request, call)
        toolCalls = completion.toolCalls
        reply = { text: completion.content, finishReason: completion.finishReason, usage: completion.usage, requestId: completion.requestId }
      }
      const { text, finishReason } = reply
      // A reply that acts is not a spoken line: its (often empty) text is not checked like one.
      if (toolCalls?.length) return { ...reply, toolCalls }
      if (finishReason === 'sensitive') throw new ProviderFailure('sensitive', 'GLM stopped the reply for content safety', text)
      if (finishReason === 'network_error') throw new ProviderFailure('network_error', 'GLM reported an inference failure', text)
      // A line cut off at max_tokens is not something an NPC should say; the game learns why.
      if (finishReason === 'length') throw new ProviderFailure('length', 'the reply hit max_tokens and was cut off', text)
      if (text.trim() === '') throw new ProviderFailure('empty_reply', 'GLM sent an empty reply')
      return reply
    },
  }
}
