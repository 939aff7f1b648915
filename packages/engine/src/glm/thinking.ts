/**
 * Thinking, model family by model family, and server by server (glm-api.md §7–8). One table says,
 * for each family, how thinking is turned off or down, whether reasoning arrives apart from the
 * spoken text (`reasoning_content`), and whether it can sit in `content` as `<think>…</think>`.
 * The client strips `<think>` blocks from every reply whatever the table says; the table decides
 * what the request asks for.
 */
import type { ChatRequest } from './types.ts'

/** What the NPC file asks: `false` (default) as little thinking as the model allows, `true` the model's own default. */
export type ThinkingSetting = boolean

/** Which kind of server answers: GLM itself, or an OpenAI-compatible one. */
export type ServerKind = 'glm' | 'ollama' | 'vllm' | 'openai'

export type ThinkingControl =
  /** Never thinks: nothing to send. */
  | 'none'
  /** `thinking: {type: "enabled" | "disabled"}`. */
  | 'thinking_type'
  /** `reasoning_effort`, "none" turning it off. */
  | 'reasoning_effort'
  /** Always thinks and takes no switch. */
  | 'always'

export interface ThinkingFamily {
  id: 'glm-4' | 'glm-4.5' | 'glm-5.2' | 'glm-5.3' | 'glm-z1' | 'other'
  /** Tested against the model name, lower-cased, after any `org/` prefix. */
  matches: RegExp
  control: ThinkingControl
  /** Whether "off" really turns it off; if not, off means the lowest effort. */
  canDisable: boolean
  /** On GLM: reasoning streams as `reasoning_content`, apart from the spoken text. */
  reasoningContent: boolean
  /** On GLM: reasoning sits inside `content` as `<think>…</think>`. */
  thinkTags: boolean
  /** The models of the family that take `tool_stream: true` (glm-4.6 and later, §8). */
  toolStream: RegExp | false
  source: string
}

/** First match wins: the more specific rows come first. */
export const THINKING_FAMILIES: readonly ThinkingFamily[] = [
  {
    id: 'glm-z1',
    matches: /^glm-z1/,
    control: 'always',
    canDisable: false,
    reasoningContent: false,
    thinkTags: true,
    toolStream: false,
    source: 'glm-api.md §8: reasoning inside content as <think>…</think> (labring/FastGPT issue 4613)',
  },
  {
    id: 'glm-5.3',
    matches: /^glm-5\.3/,
    control: 'reasoning_effort',
    canDisable: false,
    reasoningContent: true,
    thinkTags: false,
    toolStream: /(?:)/,
    source: 'glm-api.md §8: "thinking.type supports enabled only" (AIHubMix; together.ai glm-5.3 quickstart)',
  },
  {
    id: 'glm-5.2',
    matches: /^glm-(5\.([2-9]|\d{2,})|([6-9]|\d{2,})(\.\d+)?)(?![\d.])/,
    control: 'reasoning_effort',
    canDisable: true,
    reasoningContent: true,
    thinkTags: false,
    toolStream: /(?:)/,
    source: 'glm-api.md §8: glm-5.2 and later take reasoning_effort (none … max)',
  },
  {
    id: 'glm-4.5',
    matches: /^glm-(4\.[5-9]|5(\.[01])?)(?![\d.])/,
    control: 'thinking_type',
    canDisable: true,
    reasoningContent: true,
    thinkTags: false,
    toolStream: /^glm-(4\.[6-9]|5)/,
    source: 'glm-api.md §8: glm-4.5 … 5.1 think by default; thinking:{type:"disabled"} turns it off (docs.z.ai thinking-mode)',
  },
  {
    id: 'glm-4',
    matches: /^(glm-?4(?![.\d])|chatglm|codegeex|charglm|emohaa)/,
    control: 'none',
    canDisable: true,
    reasoningContent: false,
    thinkTags: false,
    toolStream: false,
    source: 'glm-api.md §8: glm-4-* (including -250414) do not think',
  },
  {
    id: 'other',
    matches: /(?:)/,
    control: 'none',
    canDisable: true,
    reasoningContent: false,
    thinkTags: true,
    toolStream: false,
    source: 'not a GLM name: on a compatible server the server switch below is all there is',
  },
]

const bareName = (model: string) => model.toLowerCase().replace(/^.*\//, '')

export function familyOf(model: string): ThinkingFamily {
  const name = bareName(model)
  return THINKING_FAMILIES.find((f) => f.matches.test(name))!
}

/** Whether GLM streams this model's tool-call arguments in fragments when asked (`tool_stream`). */
export function acceptsToolStream(model: string): boolean {
  const stream = familyOf(model).toolStream
  return stream !== false && stream.test(bareName(model))
}

/**
 * The server behind a base URL, unless the game says: GLM's hosts and `/api/paas/v4` paths are
 * GLM; Ollama listens on 11434; any other base is treated as vLLM, the local server GLM's own
 * docs use. `openai` (set explicitly) sends no thinking switch at all.
 */
export function serverKindOf(baseUrl: string): ServerKind {
  if (/bigmodel\.cn|z\.ai|\/paas\/v4|\/coding\/paas/.test(baseUrl)) return 'glm'
  if (/:11434(\/|$)|ollama/i.test(baseUrl)) return 'ollama'
  return 'vllm'
}

/**
 * The request fields that set thinking for this model on this server. On GLM the family decides;
 * on OpenAI-compatible servers the server's switch does (Ollama `reasoning_effort`, vLLM
 * `chat_template_kwargs.enable_thinking`), sent for every model that is not a known non-thinker.
 */
export function thinkingFields(model: string, server: ServerKind, thinking: ThinkingSetting): Partial<ChatRequest> {
  const family = familyOf(model)
  if (server === 'glm') {
    switch (family.control) {
      case 'thinking_type':
        return { thinking: { type: thinking ? 'enabled' : 'disabled' } }
      case 'reasoning_effort':
        if (thinking) return {}
        return { reasoning_effort: family.canDisable ? 'none' : 'low' }
      default:
        return {}
    }
  }
  if (family.id === 'glm-4' || server === 'openai') return {}
  if (server === 'ollama') return thinking ? {} : { reasoning_effort: 'none' }
  return { chat_template_kwargs: { enable_thinking: thinking } }
}

/** Whether a request will think: the model then spends seconds (or minutes) before its first spoken word. */
export function willThink(model: string, server: ServerKind, thinking: ThinkingSetting): boolean {
  const family = familyOf(model)
  if (!family.canDisable || family.control === 'always') return true
  if (family.control === 'none') return server !== 'glm' && family.id === 'other' && thinking
  return thinking
}
