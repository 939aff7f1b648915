import type { Npc } from '../content/schema.ts'
import { evaluate } from '../conditions/evaluate.ts'
import type { GameState } from '../conditions/types.ts'
import { estimateTokens } from '../prompt/tokens.ts'
import { Bm25Index } from './bm25.ts'
import { chunkText } from './chunk.ts'
import { cosine, embedTexts, type EmbeddingOptions } from './embeddings.ts'

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
    index = { chunks, bm25: new Bm25Index(chunks.map((c) => c.text)) }
    indexes.set(npc, index)
  }
  return index
}

/**
 * Which chunks may be used now. Gated lore is filtered out before anything else happens, so a
 * locked entry is never ranked, embedded or sent.
 */
export function availableChunks(npc: Npc, state: GameState): LoreChunk[] {
  const sources = npc.lore?.sources ?? []
  const open = sources.map((s) => !s.unlock || evaluate(s.unlock, state))
  return loreIndex(npc).chunks.filter((c) => open[c.source])
}

function keywordBonus(npc: Npc, chunk: LoreChunk, query: string): number {
  const source = npc.lore!.sources[chunk.source]!
  const q = query.toLowerCase()
  const hit = source.keywords?.some((k) => q.includes(k.toLowerCase())) ? 1000 : 0
  // A keyword match ranks first; priority only breaks ties.
  return hit + source.priority * 0.001
}

type Ranked = Array<{ chunk: LoreChunk; score: number }>

function rankBm25(npc: Npc, query: string, allowed: ReadonlySet<LoreChunk>): Ranked {
  const { chunks, bm25 } = loreIndex(npc)
  const scores = bm25.scores(query)
  const ranked: Ranked = []
  chunks.forEach((chunk, i) => {
    if (!allowed.has(chunk)) return
    const bonus = keywordBonus(npc, chunk, query)
    // No term in common and no keyword hit: not relevant, however high its priority.
    if (scores[i]! > 0 || bonus >= 1000) ranked.push({ chunk, score: scores[i]! + bonus })
  })
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
  return select(npc, rankBm25(npc, query, new Set(availableChunks(npc, state))))
}

/** Whether this NPC's retrieval needs the network (embeddings or hybrid, with a client configured). */
export function needsEmbeddings(npc: Npc, embeddings: EmbeddingOptions | undefined): embeddings is EmbeddingOptions {
  return !!embeddings && !!npc.lore && npc.lore.retriever !== 'bm25'
}

/**
 * Retrieval as the NPC file asks: BM25, embeddings (cosine), or hybrid (reciprocal rank fusion of
 * both). Without an embeddings client it falls back to BM25, so the demo works with no key.
 */
export async function retrieveLore(npc: Npc, query: string, state: GameState, embeddings?: EmbeddingOptions): Promise<LoreChunk[]> {
  if (!npc.lore || !query.trim()) return []
  if (!needsEmbeddings(npc, embeddings)) return retrieveLoreSync(npc, query, state)
  const available = availableChunks(npc, state)
  if (available.length === 0) return []
  const { vectors } = await embedTexts([query, ...available.map((c) => c.text)], embeddings)
  const [q, ...docs] = vectors
  const dense: Ranked = available.map((chunk, i) => ({ chunk, score: cosine(q!, docs[i]!) + keywordBonus(npc, chunk, query) })).sort((a, b) => b.score - a.score)
  if (npc.lore.retriever === 'embeddings') return select(npc, dense)
  const sparse = rankBm25(npc, query, new Set(available))
  const fused = new Map<LoreChunk, number>()
  for (const ranking of [dense, sparse]) ranking.forEach((r, rank) => fused.set(r.chunk, (fused.get(r.chunk) ?? 0) + 1 / (60 + rank + 1)))
  return select(npc, [...fused].map(([chunk, score]) => ({ chunk, score: score + keywordBonus(npc, chunk, query) })).sort((a, b) => b.score - a.score))
}

/** Embeds every lore chunk that is not gated (`parley index`): gated lore waits until it unlocks. */
export async function indexLore(npc: Npc, embeddings: EmbeddingOptions, onProgress?: (done: number, total: number) => void): Promise<{ chunks: number; sent: number }> {
  const open = loreIndex(npc).chunks.filter((c) => !npc.lore!.sources[c.source]!.unlock)
  const { sent } = await embedTexts(open.map((c) => c.text), embeddings, onProgress)
  return { chunks: open.length, sent }
}
