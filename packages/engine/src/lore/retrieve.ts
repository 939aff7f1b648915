import type { Npc } from '../content/schema.ts'
import { evaluate } from '../conditions/evaluate.ts'
import type { GameState } from '../conditions/types.ts'
import { quickLowerCase } from '../content/quick-nfkc.ts'
import { estimateTokens } from '../prompt/tokens.ts'
import { Bm25Index } from './bm25.ts'
import { chunkText } from './chunk.ts'
import { cacheKeyPrefix, cosine, embedQuery, embedTexts, type EmbeddingOptions } from './embeddings.ts'

export interface LoreChunk {
  /** `source#n`: the entry's id (or `lore[i]`) and the chunk's place in it. */
  id: string
  source: number
  text: string
  tokens: number
}

interface LoreIndex {
  chunks: LoreChunk[]
  bm25: Bm25Index
  /** Each source's keywords, lowercased once (by source index). */
  keywords: (readonly string[] | undefined)[]
}

const indexes = new WeakMap<Npc, LoreIndex>()

export function sourceLabel(npc: Npc, i: number): string {
  return npc.lore?.sources[i]?.id ?? `lore[${i}]`
}

/** The NPC's lore cut into chunks, built once per NPC. Unread files (no loader) contribute nothing. */
export function loreIndex(npc: Npc): LoreIndex {
  let index = indexes.get(npc)
  if (!index) {
    const chunks: LoreChunk[] = []
    const lore = npc.lore
    lore?.sources.forEach((source, i) => {
      if (!source.text) return
      chunkText(source.text, lore.chunk).forEach((text, k) => chunks.push({ id: `${sourceLabel(npc, i)}#${k}`, source: i, text, tokens: estimateTokens(text) }))
    })
    index = { chunks, bm25: new Bm25Index(chunks.map((c) => c.text)), keywords: (lore?.sources ?? []).map((s) => s.keywords?.map((k) => k.toLowerCase())) }
    indexes.set(npc, index)
  }
  return index
}

/**
 * Which chunks may be used now. Gated lore is filtered out before anything else happens, so a
 * locked entry is never ranked, embedded or sent.
 */
export function availableChunks(npc: Npc, state: GameState): LoreChunk[] {
  return chunksOf(npc, openSources(npc, state))
}

/** The chunks of the sources open now (`open`, per source). */
function chunksOf(npc: Npc, open: readonly boolean[]): LoreChunk[] {
  return loreIndex(npc).chunks.filter((c) => open[c.source])
}

/** Per source, whether its `unlock` holds now. */
function openSources(npc: Npc, state: GameState): boolean[] {
  return (npc.lore?.sources ?? []).map((s) => !s.unlock || evaluate(s.unlock, state))
}

function keywordBonus(npc: Npc, chunk: LoreChunk, query: string): number {
  return sourceBonus(npc, chunk.source, lowerCase(query))
}

function sourceBonus(npc: Npc, source: number, lowerQuery: string): number {
  const hit = loreIndex(npc).keywords[source]?.some((k) => lowerQuery.includes(k)) ? 1000 : 0
  // A keyword match ranks first; priority only breaks ties.
  return hit + npc.lore!.sources[source]!.priority * 0.001
}

/** The query lowercased, without ICU for the usual line. */
function lowerCase(query: string): string {
  return quickLowerCase(query) ?? query.toLowerCase()
}

type Ranked = Array<{ chunk: LoreChunk; score: number }>

/** BM25 over the chunks of the sources open now (`open`, per source). */
function rankBm25(npc: Npc, query: string, open: readonly boolean[]): Ranked {
  const { chunks, bm25 } = loreIndex(npc)
  const scores = bm25.scores(query)
  const ranked: Ranked = []
  // Once per source, not per chunk: the query is lowercased and its keywords tested once.
  const lower = lowerCase(query)
  const bonuses = npc.lore!.sources.map((_, i) => sourceBonus(npc, i, lower))
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!
    if (!open[chunk.source]) continue
    const bonus = bonuses[chunk.source]!
    // No term in common and no keyword hit: not relevant, however high its priority.
    if (scores[i]! > 0 || bonus >= 1000) ranked.push({ chunk, score: scores[i]! + bonus })
  }
  return ranked.sort((a, b) => b.score - a.score)
}

/** The best chunks that fit the NPC's `top_k` and token budget, best first. */
function select(npc: Npc, ranked: Ranked): LoreChunk[] {
  const out: LoreChunk[] = []
  let used = 0
  for (const { chunk } of ranked) {
    if (out.length >= npc.lore!.top_k) break
    if (used + chunk.tokens > npc.lore!.max_tokens) continue
    out.push(chunk)
    used += chunk.tokens
  }
  return out
}

/** BM25 only: offline, synchronous, deterministic. */
export function retrieveLoreSync(npc: Npc, query: string, state: GameState): LoreChunk[] {
  if (!npc.lore || !query.trim()) return []
  return select(npc, rankBm25(npc, query, openSources(npc, state)))
}

/** Whether this NPC's retrieval needs the network (embeddings or hybrid, with a client configured). */
export function needsEmbeddings(npc: Npc, embeddings: EmbeddingOptions | undefined): embeddings is EmbeddingOptions {
  return !!embeddings && !!npc.lore && npc.lore.retriever !== 'bm25'
}

/** What a turn's retrieval used, and why it fell back to BM25 when it did: told to the game in the turn's result. */
export interface LoreRetrieval {
  chunks: LoreChunk[]
  retriever: 'bm25' | 'embeddings' | 'hybrid'
  /** Embeddings were asked for and not used: the turn went on with BM25 alone. */
  fallback?: { reason: 'embeddings_failed' | 'embeddings_slow'; message: string } | undefined
  /** Embeddings were not asked for because a lore keyword matched (keywords rank first anyway). */
  skipped?: 'keyword' | undefined
}

export const DEFAULT_EMBEDDING_BUDGET_MS = 300

/** Chunk vectors already read or fetched, per model prefix, so a turn neither re-hashes nor re-reads them. */
const chunkVectorMemo = new WeakMap<LoreChunk, Map<string, number[]>>()
/** Chunk vectors being fetched, so concurrent turns (and a turn that gave up waiting) share one request. */
const chunkVectorPending = new WeakMap<LoreChunk, Map<string, Promise<number[]>>>()

function slot<T>(map: WeakMap<LoreChunk, Map<string, T>>, chunk: LoreChunk): Map<string, T> {
  let byPrefix = map.get(chunk)
  if (!byPrefix) map.set(chunk, (byPrefix = new Map()))
  return byPrefix
}

function chunkVectors(chunks: readonly LoreChunk[], embeddings: EmbeddingOptions): Promise<number[][]> {
  const prefix = cacheKeyPrefix(embeddings)
  const need = chunks.filter((c) => !chunkVectorMemo.get(c)?.has(prefix) && !chunkVectorPending.get(c)?.has(prefix))
  if (need.length > 0) {
    // Not tied to the turn: past a turn's budget it keeps going, so the next turn finds the chunks embedded.
    const flight = embedTexts(need.map((c) => c.text), embeddings)
    need.forEach((c, i) => {
      const one = flight.then(({ vectors }) => {
        slot(chunkVectorMemo, c).set(prefix, vectors[i]!)
        return vectors[i]!
      })
      one.catch(() => {}).finally(() => chunkVectorPending.get(c)?.delete(prefix))
      slot(chunkVectorPending, c).set(prefix, one)
    })
  }
  return Promise.all(chunks.map((c) => chunkVectorMemo.get(c)?.get(prefix) ?? chunkVectorPending.get(c)!.get(prefix)!))
}

function rank(npc: Npc, query: string, available: LoreChunk[], open: readonly boolean[], q: number[], docs: number[][]): LoreChunk[] {
  const dense: Ranked = available.map((chunk, i) => ({ chunk, score: cosine(q, docs[i]!) + keywordBonus(npc, chunk, query) })).sort((a, b) => b.score - a.score)
  if (npc.lore!.retriever === 'embeddings') return select(npc, dense)
  const sparse = rankBm25(npc, query, open)
  const fused = new Map<LoreChunk, number>()
  for (const ranking of [dense, sparse]) ranking.forEach((r, rank) => fused.set(r.chunk, (fused.get(r.chunk) ?? 0) + 1 / (60 + rank + 1)))
  return select(npc, [...fused].map(([chunk, score]) => ({ chunk, score: score + keywordBonus(npc, chunk, query) })).sort((a, b) => b.score - a.score))
}

/**
 * Retrieval as the NPC file asks: BM25, embeddings (cosine), or hybrid (reciprocal rank fusion of
 * both), and never at the cost of the turn. Embeddings are skipped when a lore keyword matched;
 * when they fail or take longer than the budget (the NPC file's `embedding_budget_ms`, else the
 * options', else 300 ms) the turn goes on with BM25 and the result says why. Chunk embeddings
 * still being fetched keep going in the background, so the next turn has them. Without an
 * embeddings client it is BM25, so the demo works with no key.
 */
export async function retrieveLoreDetailed(npc: Npc, query: string, state: GameState, embeddings?: EmbeddingOptions): Promise<LoreRetrieval> {
  if (!npc.lore || !query.trim()) return { chunks: [], retriever: 'bm25' }
  if (!needsEmbeddings(npc, embeddings)) return { chunks: retrieveLoreSync(npc, query, state), retriever: 'bm25' }
  const open = openSources(npc, state)
  const available = chunksOf(npc, open)
  if (available.length === 0) return { chunks: [], retriever: npc.lore.retriever }
  const bm25 = () => select(npc, rankBm25(npc, query, open))
  if (available.some((c) => keywordBonus(npc, c, query) >= 1000)) return { chunks: bm25(), retriever: 'bm25', skipped: 'keyword' }
  const budget = npc.lore.embedding_budget_ms ?? embeddings.budgetMs ?? DEFAULT_EMBEDDING_BUDGET_MS
  const controller = new AbortController()
  const work = Promise.all([embedQuery(query, embeddings, controller.signal), chunkVectors(available, embeddings)])
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), budget)))
  try {
    const outcome = await Promise.race([work, late])
    if (outcome === 'late') {
      controller.abort()
      work.catch(() => {})
      return { chunks: bm25(), retriever: 'bm25', fallback: { reason: 'embeddings_slow', message: `embeddings took longer than ${budget} ms; BM25 alone was used` } }
    }
    const [q, docs] = outcome
    return { chunks: rank(npc, query, available, open, q, docs), retriever: npc.lore.retriever }
  } catch (error) {
    const e = error as { message?: string; glmCode?: string; status?: number }
    const code = e.glmCode ? ` (GLM code ${e.glmCode})` : e.status ? ` (HTTP ${e.status})` : ''
    return { chunks: bm25(), retriever: 'bm25', fallback: { reason: 'embeddings_failed', message: `embeddings failed${code}: ${e.message ?? String(error)}; BM25 alone was used` } }
  } finally {
    clearTimeout(timer)
  }
}

/** The chunks `retrieveLoreDetailed` picks. */
export async function retrieveLore(npc: Npc, query: string, state: GameState, embeddings?: EmbeddingOptions): Promise<LoreChunk[]> {
  return (await retrieveLoreDetailed(npc, query, state, embeddings)).chunks
}

/** Embeds every lore chunk that is not gated (`parley index`): gated lore waits until it unlocks. */
export async function indexLore(npc: Npc, embeddings: EmbeddingOptions, onProgress?: (done: number, total: number) => void): Promise<{ chunks: number; sent: number }> {
  const open = loreIndex(npc).chunks.filter((c) => !npc.lore!.sources[c.source]!.unlock)
  const { sent } = await embedTexts(open.map((c) => c.text), embeddings, onProgress)
  return { chunks: open.length, sent }
}
