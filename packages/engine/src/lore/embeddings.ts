import type { GlmClient } from '../glm/client.ts'

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
  cache?: EmbeddingCache
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export function cacheKeyPrefix(options: EmbeddingOptions): string {
  const model = options.model ?? 'embedding-3'
  return model === 'embedding-3' ? `${model}-${options.dimensions ?? 512}` : model
}

/**
 * Embeddings for texts, through the cache: only texts never embedded before (by content hash)
 * are sent, in batches of 64 (embedding-3's limit). Returns the vectors and how many were sent.
 */
export async function embedTexts(texts: readonly string[], options: EmbeddingOptions, onProgress?: (done: number, total: number) => void): Promise<{ vectors: number[][]; sent: number }> {
  const model = options.model ?? 'embedding-3'
  const prefix = cacheKeyPrefix(options)
  const keys = await Promise.all(texts.map(async (t) => `${prefix}/${await sha256(t)}`))
  const vectors: Array<number[] | undefined> = await Promise.all(keys.map((k) => options.cache?.get(k)))
  const missing = texts.map((_, i) => i).filter((i) => !vectors[i])
  for (let start = 0; start < missing.length; start += 64) {
    const batch = missing.slice(start, start + 64)
    const response = await options.client.embeddings({
      model,
      input: batch.map((i) => texts[i]!),
      ...(model === 'embedding-3' && { dimensions: options.dimensions ?? 512 }),
    })
    for (const d of response.data) {
      const i = batch[d.index]!
      vectors[i] = d.embedding
      await options.cache?.set(keys[i]!, d.embedding)
    }
    onProgress?.(Math.min(start + 64, missing.length), missing.length)
  }
  return { vectors: vectors as number[][], sent: missing.length }
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
