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
  tools?: unknown[] | undefined
  tool_choice?: 'auto' | undefined
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
  | { type: 'finish'; finishReason: FinishReason; usage?: Usage | undefined; requestId: string; text: string }

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
