import { createGlmClient } from '@parley/engine'
import { retrieveLore, retrieveLoreSync, MemoryEmbeddingCache } from '@parley/engine/unstable'
import { loadNpcFile } from '@parley/engine/node'
import { join } from 'node:path'
import { ROOT, startEmulatorProcess } from '../lib.ts'
import { LORE_QUESTIONS } from '../../test/fixtures/lore-questions.ts'
import type { SectionOptions, SectionResult } from './common.ts'

/** Issue 9: recall@3 on 30 questions about the informant's city, BM25 against hybrid. */
export async function loreSection(_: SectionOptions): Promise<SectionResult> {
  const emu = await startEmulatorProcess()
  try {
    const npc = await loadNpcFile(join(ROOT, 'content/npcs/informant.yaml'))
    const state = { items: {}, flags: [], turns: 0 }
    // Recall of the ranking itself: no budget cut-off here (the first question embeds every chunk).
    const embeddings = { client: createGlmClient({ apiKey: emu.key, baseUrl: emu.url }), cache: new MemoryEmbeddingCache(), budgetMs: 60_000 }
    let bm25 = 0
    let hybrid = 0
    const misses: string[] = []
    for (const { q, answer } of LORE_QUESTIONS) {
      if (retrieveLoreSync(npc, q, state).some((c) => c.text.includes(answer))) bm25++
      else misses.push(`BM25: ${q}`)
      if ((await retrieveLore(npc, q, state, embeddings)).some((c) => c.text.includes(answer))) hybrid++
      else misses.push(`hybrid: ${q}`)
    }
    const n = LORE_QUESTIONS.length
    return {
      markdown: `## Lore retrieval (issue 9)\n\n${n} questions about the informant's city (\`test/fixtures/lore-questions.ts\`), each with the phrase the right chunk holds; a hit is that phrase in the top 3 chunks:\n\n| retriever | recall@3 |\n|---|---|\n| BM25 (offline, CJK bigrams) | ${(bm25 / n).toFixed(2)} (${bm25}/${n}) |\n| hybrid (BM25 + embeddings, reciprocal rank fusion) | ${(hybrid / n).toFixed(2)} (${hybrid}/${n}) |\n\nMissed: ${misses.join('; ') || 'none'}. The embeddings here come from the GLM emulator (hashed character bigrams, not embedding-3), so the hybrid row measures the fusion and caching path, not embedding-3's quality.`,
      reading: `Lore: recall@3 ${(bm25 / n).toFixed(2)} with BM25 alone and ${(hybrid / n).toFixed(2)} hybrid on ${n} questions.`,
    }
  } finally {
    emu.stop()
  }
}
