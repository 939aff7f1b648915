import { describe, expect, it } from 'vitest'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConversation, createGlmClient, glmProvider, type EmbeddingOptions } from '@parley/engine'
import { indexLore, retrieveLore } from '@parley/engine/unstable'
import { DiskEmbeddingCache, loadNpcFile } from '@parley/engine/node'
import { useEmulator } from './helpers/emulator.ts'
import { NPC_DIR } from './helpers/npcs.ts'
import { LORE_QUESTIONS } from './fixtures/lore-questions.ts'

const emulator = useEmulator()
const TUNNEL = '山庄后山有一条废弃的矿道'

const embeddingRequests = () => emulator().requests.filter((r) => r.path.endsWith('/embeddings'))
const embeddings = (dir: string): EmbeddingOptions => ({
  client: createGlmClient({ apiKey: emulator().apiKey, baseUrl: emulator().url, retry: { baseDelayMs: 1 } }),
  cache: new DiskEmbeddingCache(dir),
  // These tests check ranking and caching, not the budget (test/glm-2026.test.ts does): a loaded machine must not turn them into BM25.
  budgetMs: 30_000,
})

async function withCache<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-embeddings-'))
  try {
    return await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('lore, retrieved per turn', () => {
  it('puts the best chunks for the player\'s line into a marked section of the system message', async () => {
    const npc = await loadNpcFile(`${NPC_DIR}/informant.yaml`)
    const convo = createConversation(npc, { provider: glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url }) })
    const expected = convo.messages('铁鸦帮的首领是谁？')
    await convo.say('铁鸦帮的首领是谁？')
    const system = emulator().chatRequests[0]!.body.messages[0].content as string
    expect(system).toContain('【与玩家问题相关的背景资料（仅在相关时使用）】')
    expect(system).toContain('乌鸦婆婆')
    expect(emulator().chatRequests[0]!.body.messages).toEqual(expected)
    expect(convo.lastRequest()![0]!.content).toBe(system)
  })

  it('embeds lore through GLM embedding-3 and ranks with hybrid retrieval', async () => {
    await withCache(async (dir) => {
      const npc = await loadNpcFile(`${NPC_DIR}/informant.yaml`)
      const opts = embeddings(dir)
      let hits = 0
      for (const { q, answer } of LORE_QUESTIONS) {
        const chunks = await retrieveLore(npc, q, { items: {}, flags: [], turns: 0 }, opts)
        expect(chunks.length).toBeLessThanOrEqual(3)
        if (chunks.some((c) => c.text.includes(answer))) hits++
      }
      expect(hits / LORE_QUESTIONS.length).toBeGreaterThanOrEqual(0.9)
      const first = embeddingRequests()[0]!.body
      expect(first).toMatchObject({ model: 'embedding-3', dimensions: 512 })
    })
  })

  it('never embeds the same text twice: the second run is served from the disk cache', async () => {
    await withCache(async (dir) => {
      const npc = await loadNpcFile(`${NPC_DIR}/informant.yaml`)
      const first = await indexLore(npc, embeddings(dir))
      expect(first.sent).toBe(first.chunks)
      expect(readdirSync(join(dir, 'embedding-3-512')).length).toBe(first.chunks)
      const before = embeddingRequests().length
      const again = await indexLore(await loadNpcFile(`${NPC_DIR}/informant.yaml`), embeddings(dir))
      expect(again).toEqual({ chunks: first.chunks, sent: 0 })
      expect(embeddingRequests().length).toBe(before)
    })
  })

  it('gated lore is in no chat request and no embeddings request until it unlocks', async () => {
    await withCache(async (dir) => {
      const npc = await loadNpcFile(`${NPC_DIR}/informant.yaml`)
      const convo = createConversation(npc, { provider: glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url }), lore: { embeddings: embeddings(dir) } })
      await indexLore(npc, embeddings(dir))
      for (const line of ['山庄有没有密道？', '怎么进山庄的地下室？', '矿道在哪里？', '我已经给你红宝石了，说说矿道']) await convo.say(line)
      for (const r of emulator().requests) expect(r.raw).not.toContain(TUNNEL)
      expect(convo.give('red_gem').unlocked).toEqual(['boss_location'])
      // A keyword names the entry: it ranks first, with no embedding needed for this line.
      await convo.say('山庄有没有密道？')
      const last = emulator().chatRequests.at(-1)!.body.messages[0].content as string
      expect(last).toContain(TUNNEL)
      expect(embeddingRequests().some((r) => r.raw.includes(TUNNEL))).toBe(false)
      // Lines without a keyword (this one and the one before) are ranked with embeddings, the unlocked entry now among them.
      await convo.say('你好')
      await convo.say('山庄后山有什么？')
      expect(embeddingRequests().some((r) => r.raw.includes(TUNNEL))).toBe(true)
    })
  })
})
