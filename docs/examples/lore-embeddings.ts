import { createConversation, createGlmClient, glmProvider } from '@parley/engine'
import { DiskEmbeddingCache, loadNpcFile } from '@parley/engine/node'

// Lore with `retriever: embeddings` or `hybrid` uses GLM embedding-3; BM25 (the default) needs none of this.
const apiKey = process.env.GLM_API_KEY
if (!apiKey) throw new Error('set GLM_API_KEY (and GLM_BASE_URL for a compatible server)')
const client = createGlmClient({ apiKey, baseUrl: process.env.GLM_BASE_URL })

const npc = await loadNpcFile('content/npcs/informant.yaml') // also reads the lore files it names
const convo = createConversation(npc, {
  provider: glmProvider({ client }),
  lore: { embeddings: { client, cache: new DiskEmbeddingCache('.parley-cache/embeddings') } },
})
const turn = await convo.say('山庄是什么地方？')
console.log(`${npc.name}: ${turn.text}`)
console.log(`lore sent: ${convo.lastLore().join(', ')}`) // the chunk ids the last request carried
convo.stop()
