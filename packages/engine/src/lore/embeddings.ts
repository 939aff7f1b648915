import type { GlmClient } from '../glm/client.ts'
import { LruCache } from './lru.ts'

/** Where chunk embeddings are kept between runs, keyed by model, dimensions and content hash. */
export interface EmbeddingCache {
  get(key: string): Promise<number[] | undefined>
  set(key: string, vector: number[]): Promise<void>
}

export class MemoryEmbeddingCache implements EmbeddingCache {
  readonly #map = new Map<string, number[]>()
  async get(key: string) {
    return this.#map.get(key)
  }
  async set(key: string, vector: number[]) {
    this.#map.set(key, vector)
  }
}

export interface EmbeddingOptions {
  client: GlmClient
  model?: 'embedding-3' | 'embedding-2'
  /** embedding-3 only: 256, 512, 1024 or 2048. Default 512. */
  dimensions?: 256 | 512 | 1024 | 2048
  /** Lore chunk embeddings, kept between runs (`DiskEmbeddingCache`). Player lines never go here. */
  cache?: EmbeddingCache
  /** Player-line embeddings, in memory and bounded. Default: one shared LRU of 512 lines. */
  queryCache?: LruCache<string, number[]>
  /**
   * How long a turn waits for embeddings before it answers with BM25 alone. The NPC file's
   * `lore.embedding_budget_ms` wins over this; default 300 ms.
   */
  budgetMs?: number | undefined
}

/** Per-input limits (glm-api.md §5, §8): embedding-3 3072 tokens and 64 inputs, embedding-2 512 tokens and 8K in all. */
const LIMITS = {
  'embedding-3': { perInput: 3072, perCall: Number.POSITIVE_INFINITY, inputs: 64 },
  'embedding-2': { perInput: 512, perCall: 8192, inputs: 64 },
} as const

/**
 * Text cut to what the model takes. A character is at most one token in GLM's tokenizer (a CJK
 * character about one, English about a quarter), so a character cap always fits.
 */
function fitInput(text: string, model: keyof typeof LIMITS): string {
  const max = LIMITS[model].perInput - 8
  return text.length > max ? text.slice(0, max) : text
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export function cacheKeyPrefix(options: EmbeddingOptions): string {
  const model = options.model ?? 'embedding-3'
  return model === 'embedding-3' ? `${model}-${options.dimensions ?? 512}` : model
}

/** Batches within the model's limits on inputs per call and tokens per call. */
function batches(indexes: number[], texts: readonly string[], model: keyof typeof LIMITS): number[][] {
  const out: number[][] = []
  let current: number[] = []
  let size = 0
  for (const i of indexes) {
    const cost = texts[i]!.length
    if (current.length > 0 && (current.length >= LIMITS[model].inputs || size + cost > LIMITS[model].perCall)) {
      out.push(current)
      current = []
      size = 0
    }
    current.push(i)
    size += cost
  }
  if (current.length) out.push(current)
  return out
}

/**
 * Embeddings for texts, through the cache: only texts never embedded before (by content hash)
 * are sent, in batches within the model's limits. Returns the vectors and how many were sent.
 */
export async function embedTexts(texts: readonly string[], options: EmbeddingOptions, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<{ vectors: number[][]; sent: number }> {
  const model = options.model ?? 'embedding-3'
  const prefix = cacheKeyPrefix(options)
  const inputs = texts.map((t) => fitInput(t, model))
  const keys = await Promise.all(inputs.map(async (t) => `${prefix}/${await sha256(t)}`))
  const vectors: Array<number[] | undefined> = await Promise.all(keys.map((k) => options.cache?.get(k)))
  const missing = inputs.map((_, i) => i).filter((i) => !vectors[i])
  let done = 0
  for (const batch of batches(missing, inputs, model)) {
    const response = await options.client.embeddings(
      { model, input: batch.map((i) => inputs[i]!), ...(model === 'embedding-3' && { dimensions: options.dimensions ?? 512 }) },
      { signal },
    )
    for (const d of response.data) {
      const i = batch[d.index]!
      vectors[i] = d.embedding
      await options.cache?.set(keys[i]!, d.embedding)
    }
    done += batch.length
    onProgress?.(done, missing.length)
  }
  return { vectors: vectors as number[][], sent: missing.length }
}

const sharedQueries = new LruCache<string, number[]>(512)

/**
 * The embedding of a player's line: asked for once, then served from memory (a bounded LRU), so a
 * turn that is retried or a line said again costs no second round trip. Never written to disk.
 */
export async function embedQuery(text: string, options: EmbeddingOptions, signal?: AbortSignal): Promise<number[]> {
  const model = options.model ?? 'embedding-3'
  const input = fitInput(text, model)
  const cache = options.queryCache ?? sharedQueries
  const key = `${cacheKeyPrefix(options)}\n${input}`
  const hit = cache.get(key)
  if (hit) return hit
  const response = await options.client.embeddings({ model, input, ...(model === 'embedding-3' && { dimensions: options.dimensions ?? 512 }) }, { signal })
  const vector = response.data[0]?.embedding
  if (!vector) throw new Error('the embeddings answer held no vector')
  cache.set(key, vector)
  return vector
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0
}
