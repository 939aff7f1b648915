export type GlmRole = 'system' | 'user' | 'assistant' | 'tool'

export interface GlmToolCall {
  id: string
  type: 'function'
  index?: number
  function: { name: string; arguments: string }
}

export interface GlmMessage {
  role: GlmRole
  content: string
  tool_calls?: GlmToolCall[]
  tool_call_id?: string
  /**
   * A thinking model's reasoning before these tool calls, sent back with their results within
   * one turn, as GLM's docs ask; never kept in history.
   */
  reasoning_content?: string
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'sensitive' | 'network_error' | 'function_call' | (string & {})

export interface ChatRequest {
  model: string
  messages: GlmMessage[]
  temperature?: number | undefined
  top_p?: number | undefined
  max_tokens?: number | undefined
  do_sample?: boolean | undefined
  stop?: string[] | undefined
  request_id?: string | undefined
  user_id?: string | undefined
  thinking?: { type: 'enabled' | 'disabled' } | undefined
  /** glm-5.2+ and Ollama: how hard to think ("none" turns it off where the model allows). */
  reasoning_effort?: 'none' | 'low' | 'medium' | 'high' | (string & {}) | undefined
  /** vLLM: `{enable_thinking: false}` turns a thinking model's template off. */
  chat_template_kwargs?: Record<string, unknown> | undefined
  tools?: unknown[] | undefined
  tool_choice?: 'auto' | undefined
  /** glm-4.6+: stream tool-call arguments in fragments as they are generated. */
  tool_stream?: boolean | undefined
  /** Ollama and vLLM send usage in a stream only when asked. */
  stream_options?: { include_usage: boolean } | undefined
  /** The end user on OpenAI-compatible servers (GLM's own field is `user_id`). */
  user?: string | undefined
}

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details?: { cached_tokens?: number }
  completion_tokens_details?: { reasoning_tokens?: number }
}

export interface ChatCompletion {
  id: string
  requestId: string
  model: string
  created: number
  content: string
  /** Thinking models' reasoning: never the NPC's spoken line. */
  reasoningContent?: string | undefined
  toolCalls?: GlmToolCall[] | undefined
  finishReason: FinishReason
  usage?: Usage | undefined
}

export type ChatStreamEvent =
  | { type: 'delta'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'tool_calls'; toolCalls: GlmToolCall[] }
  /** `text` is the spoken text and `reasoning` all reasoning of the reply (either channel), collected. */
  | { type: 'finish'; finishReason: FinishReason; usage?: Usage | undefined; requestId: string; text: string; reasoning: string }

export interface EmbeddingRequest {
  model: 'embedding-3' | 'embedding-2' | (string & {})
  input: string | string[]
  dimensions?: 256 | 512 | 1024 | 2048 | undefined
}

export interface EmbeddingResponse {
  model: string
  data: Array<{ index: number; embedding: number[] }>
  usage?: Usage | undefined
}
