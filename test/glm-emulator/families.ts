/**
 * What the emulated service knows of each model family, written from ../../../shared/glm-api.md
 * (§2 ranges, §6 models, §7 2026 traffic, §8 families), not from what our client sends. Each rule
 * names the fact it comes from.
 */

/** §6 and §8 "Models (2026)": the GLM-4 line with its -250414 versions, Z.AI's 4.5–5.x, bigmodel's z1. */
export const DEFAULT_MODELS = [
  // §6 bigmodel list (lobehub) and §8 "bigmodel GLM-4 line"
  'glm-4', 'glm-4-flash', 'glm-4-flashx', 'glm-4-air', 'glm-4-airx', 'glm-4-plus', 'glm-4-long', 'glm-4-0520',
  'glm-4-air-250414', 'glm-4-flashx-250414', 'glm-4-flash-250414', 'glm-4-32b-0414-128k',
  // §6 Z.AI enum, §7 glm-4.7-flash, §8 "Z.AI: glm-4.7, glm-4.7-flash(x), glm-4.5-x/airx"
  'glm-4.5', 'glm-4.5-air', 'glm-4.5-x', 'glm-4.5-airx', 'glm-4.5-flash', 'glm-4.6', 'glm-4.7', 'glm-4.7-flash', 'glm-4.7-flashx',
  // §8 "then glm-5, 5.1, 5-turbo, 5.2, 5.3"
  'glm-5', 'glm-5.1', 'glm-5-turbo', 'glm-5.2', 'glm-5.3',
  // §8 "bigmodel also glm-z1-*" (the individual names are UNCONFIRMED; these are the commonly listed ones)
  'glm-z1-air', 'glm-z1-airx', 'glm-z1-flash', 'glm-z1-flashx',
]

export type Family =
  /** §8: glm-4-* (including -250414): no thinking; §2 GLM-4-era ranges. */
  | 'glm-4'
  /** §8: glm-4.5, 4.6, 4.7, 5, 5.1: thinking on by default, `thinking:{type:"disabled"}` turns it off. */
  | 'thinking-type'
  /** §8: glm-5.2 and later: `reasoning_effort` (none … max). */
  | 'reasoning-effort'
  /** §8: glm-5.3: thinking cannot be turned off. */
  | 'always-thinks'
  /** §8: glm-z1-*: reasoning inside `content` as `<think>…</think>`. */
  | 'z1'

export function familyOf(model: string): Family {
  if (model.startsWith('glm-z1')) return 'z1'
  if (model.startsWith('glm-5.3')) return 'always-thinks'
  if (/^glm-5\.[2-9]/.test(model)) return 'reasoning-effort'
  if (/^glm-(4\.[5-9]|5)/.test(model)) return 'thinking-type'
  return 'glm-4'
}

/** §8 "With tool_stream:true (glm-4.6, 4.7, 5.x) the arguments arrive in fragments". */
export function acceptsToolStream(model: string): boolean {
  return /^glm-(4\.[6-9]|5)/.test(model)
}

/** §7: 2026 traffic (glm-4.7-flash) carries `"object":"chat.completion.chunk"` in chunks; older recordings do not. */
export function chunksCarryObject(model: string): boolean {
  return /^glm-(4\.7|5)/.test(model)
}

/**
 * Whether this request's reply reasons, and where. On GLM (§8) the family and its switch decide.
 * On the local (OpenAI-compatible) flavour every model but the GLM-4 line thinks unless turned off
 * with Ollama's `reasoning_effort: "none"` or vLLM's `chat_template_kwargs.enable_thinking: false`,
 * and without a reasoning parser the reasoning sits in `content` as `<think>` (§8).
 */
export function reasoningPlace(body: any, local: boolean): 'none' | 'reasoning_content' | 'think_tags' {
  const family = familyOf(String(body.model))
  if (family === 'glm-4') return 'none'
  if (local) {
    const off = body.reasoning_effort === 'none' || body.chat_template_kwargs?.enable_thinking === false
    return off ? 'none' : 'think_tags'
  }
  switch (family) {
    case 'z1':
      return 'think_tags'
    case 'always-thinks':
      // §8: "thinking.type supports enabled only"; whether `disabled` is an error is unconfirmed, so it is ignored.
      return 'reasoning_content'
    case 'reasoning-effort':
      return body.reasoning_effort === 'none' ? 'none' : 'reasoning_content'
    default:
      return body.thinking?.type === 'disabled' ? 'none' : 'reasoning_content'
  }
}

/**
 * Sampling ranges per family. GLM-4 line: §2's stricter GLM-4-era rules (temperature and top_p
 * strictly between 0 and 1, max_tokens up to 98304 as the older emulator allowed). 4.5 and later:
 * §8 "temperature [0,1], top_p [0.01,1], max_tokens 1–131072" (Z.AI OpenAPI, January 2026).
 */
export function rangeProblem(body: any): string | undefined {
  const newer = familyOf(String(body.model)) !== 'glm-4'
  const t = body.temperature
  const p = body.top_p
  const m = body.max_tokens
  if (t !== undefined && (typeof t !== 'number' || (newer ? !(t >= 0 && t <= 1) : !(t > 0 && t < 1)))) return 'temperature'
  if (p !== undefined && (typeof p !== 'number' || (newer ? !(p >= 0.01 && p <= 1) : !(p > 0 && p < 1)))) return 'top_p'
  if (m !== undefined && !(Number.isInteger(m) && m >= 1 && m <= (newer ? 131072 : 98304))) return 'max_tokens'
  return undefined
}

/** §5 and §8 "Embeddings": dimensions, inputs per call, tokens per input and per call. */
export const EMBEDDING_MODELS: Record<string, { dims: number[]; default: number; maxInputs: number; maxTokensPerInput: number; maxTokensPerCall: number }> = {
  'embedding-3': { dims: [256, 512, 1024, 2048], default: 2048, maxInputs: 64, maxTokensPerInput: 3072, maxTokensPerCall: Number.POSITIVE_INFINITY },
  'embedding-2': { dims: [1024], default: 1024, maxInputs: 64, maxTokensPerInput: 512, maxTokensPerCall: 8192 },
}
