import { join } from 'node:path'
import { createParser } from 'eventsource-parser'
import { createConversation, createGlmClient, glmProvider, type EmbeddingOptions, type Npc } from '@parley/engine'
import { indexLore, LruCache, MemoryEmbeddingCache } from '@parley/engine/unstable'
import { loadNpcFile } from '@parley/engine/node'
import { fmt, median, progress, ROOT, startEmulatorProcess } from '../lib.ts'
import type { SectionOptions, SectionResult } from './common.ts'

const REPLY = '灯塔那个独眼老人？他记得每一艘进港的船，雾天还会敲钟。'

/**
 * Issue 16.4: time to the first streamed delta by retriever, against raw fetch + eventsource-parser
 * sending the BM25 turn's request. Every turn asks a line never asked before, so hybrid pays its
 * query embedding each time (the LRU would otherwise hide it); the lore chunks are embedded
 * beforehand, as `parley index` does.
 */
export async function firstDeltaSection({ quick }: SectionOptions): Promise<SectionResult> {
  const healthy = await startEmulatorProcess({ EMULATOR_REPLY: REPLY, EMULATOR_CHUNK_SIZE: '4' })
  const slow = await startEmulatorProcess({ EMULATOR_REPLY: REPLY, EMULATOR_CHUNK_SIZE: '4', EMULATOR_EMBEDDING_DELAY_MS: '8000' })
  try {
    const hybridNpc = await loadNpcFile(join(ROOT, 'content/npcs/informant.yaml'))
    if (hybridNpc.lore?.retriever !== 'hybrid') throw new Error('the informant is expected to use hybrid lore')
    const bm25Npc: Npc = { ...hybridNpc, lore: { ...hybridNpc.lore, retriever: 'bm25' } }
    // The same NPC with a keyword on the city's lore: a line naming it needs no embedding.
    const keywordNpc: Npc = { ...hybridNpc, lore: { ...hybridNpc.lore, sources: hybridNpc.lore.sources.map((s, i) => (i === 0 ? { ...s, keywords: ['铁鸦帮'] } : s)) } }
    const embeddings = (url: string, key: string): EmbeddingOptions => ({
      client: createGlmClient({ apiKey: key, baseUrl: url }),
      cache: new MemoryEmbeddingCache(),
      queryCache: new LruCache(512),
    })
    const onHealthy = embeddings(healthy.url, healthy.key)
    const onSlow = embeddings(slow.url, slow.key)
    await indexLore(hybridNpc, onHealthy)
    const provider = (url: string, key: string) => glmProvider({ apiKey: key, baseUrl: url })
    const pHealthy = provider(healthy.url, healthy.key)
    const pSlow = provider(slow.url, slow.key)
    let n = 0
    // No lore keyword in these lines: a keyword would skip the embedding (its own row below).
    const line = () => `灯塔的看守是个什么样的人？第${++n}次问`

    const firstDelta = async (run: () => AsyncIterable<string> & { result: Promise<unknown> }) => {
      const t0 = performance.now()
      let first = 0
      const s = run()
      for await (const _ of s) if (!first) first = performance.now() - t0
      await s.result
      return first
    }
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${healthy.key}` }
    const contenders: Record<string, () => Promise<number>> = {
      'raw fetch + eventsource-parser': async () => {
        const body = JSON.stringify({ model: 'glm-4-flash', temperature: 0.8, stream: true, messages: createConversation(bm25Npc, { provider: pHealthy }).messages(line()) })
        const t0 = performance.now()
        let first = 0
        const res = await fetch(`${healthy.url}/chat/completions`, { method: 'POST', headers, body })
        let done = false
        const parser = createParser({
          onEvent: (e) => {
            if (e.data === '[DONE]') done = true
            else if (!first && JSON.parse(e.data).choices[0]?.delta?.content) first = performance.now() - t0
          },
        })
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
        while (!done) {
          const { value, done: end } = await reader.read()
          if (end) break
          parser.feed(value)
        }
        return first
      },
      'parley, BM25': () => firstDelta(() => createConversation(bm25Npc, { provider: pHealthy }).stream(line())),
      'parley, hybrid, healthy embeddings': () => firstDelta(() => createConversation(hybridNpc, { provider: pHealthy, lore: { embeddings: onHealthy } }).stream(line())),
      'parley, hybrid, a lore keyword in the line (no embedding)': () => firstDelta(() => createConversation(keywordNpc, { provider: pHealthy, lore: { embeddings: onHealthy } }).stream(`铁鸦帮的首领是谁？第${++n}次问`)),
      'parley, hybrid, 8 s embeddings (300 ms budget)': () => firstDelta(() => createConversation(hybridNpc, { provider: pSlow, lore: { embeddings: onSlow } }).stream(line())),
    }
    const names = Object.keys(contenders)
    const rounds = quick ? 2 : 3
    const iterations = quick ? 10 : 30
    for (let i = 0; i < 5; i++) for (const name of names) await contenders[name]!()
    const perRound: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]))
    for (let r = 0; r < rounds; r++) {
      progress(`first delta by retriever: round ${r + 1}/${rounds}`)
      const samples: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]))
      for (let i = 0; i < iterations; i++) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(i + k) % names.length]!
          samples[name]!.push(await contenders[name]!())
        }
      }
      for (const name of names) perRound[name]!.push(median(samples[name]!))
    }
    const base = perRound[names[0]!]!
    const rows = names.map((name) => {
      const xs = perRound[name]!
      const ratios = xs.map((v, i) => v / base[i]!)
      const extra = xs.map((v, i) => v - base[i]!)
      return `| ${name} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))} | ${name === names[0] ? '—' : fmt(median(extra))} | ${median(ratios).toFixed(2)}× |`
    })
    const get = (name: string) => median(perRound[name]!.map((v, i) => v - base[i]!))
    return {
      markdown: `## Time to first delta by retriever (issue 16.4)\n\nThe informant (hybrid lore over \`content/lore/city.md\`, chunks embedded beforehand), a fresh conversation and a line never asked before on every turn; medians of ${iterations} turns per round, ${rounds} rounds, contenders interleaved. The slow row talks to a second emulator process whose embeddings answer after 8 s:\n\n| contender | first delta | spread over rounds | added to raw | ratio to raw |\n|---|---|---|---|---|\n${rows.join('\n')}`,
      reading: `Lore and the first delta: BM25 adds ${fmt(get('parley, BM25'))} to raw fetch's first delta, hybrid with healthy embeddings ${fmt(get('parley, hybrid, healthy embeddings'))} (one embedding round trip), a keyword hit ${fmt(get('parley, hybrid, a lore keyword in the line (no embedding)'))}; with 8 s embeddings the turn goes on with BM25 after the 300 ms budget (${fmt(get('parley, hybrid, 8 s embeddings (300 ms budget)'))}) instead of waiting 8 s.`,
    }
  } finally {
    healthy.stop()
    slow.stop()
  }
}
