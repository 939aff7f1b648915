import { readFile } from 'node:fs/promises'
import { createConversation, glmProvider, parseNpc, scriptedProvider } from '@parley/engine'

const path = 'content/npcs/informant.yaml'
const npc = parseNpc(await readFile(path, 'utf8'), path)
const apiKey = process.env.GLM_API_KEY
const provider = apiKey ? glmProvider({ apiKey, baseUrl: process.env.GLM_BASE_URL }) : scriptedProvider()

// The model proposes, the game decides. Either with a handler...
const bag = new Set<string>()
const convo = createConversation(npc, {
  provider,
  actions: {
    handler: (call) => {
      if (bag.has('map')) return { ok: false, reason: 'the player already has the map' }
      bag.add('map')
      return { ok: true }
    },
    timeoutMs: 10_000, // no answer in time counts as refused
  },
})
convo.give('gold', 50) // give_map is offered only once 50 gold were given (its `when:`)
const turn = await convo.say('有地图吗？')
console.log(`${npc.name}: ${turn.text}`)
console.log(turn.actions) // [{ name: 'give_map', args: { region: '北边的废墟' }, status: 'done' }]

// ...or by answering the event. Answer with the call's id (e.call.id), not the turn's (e.id).
const other = createConversation(npc, { provider })
other.on('action.requested', (e) => other.resolveAction(e.call.id, { ok: false, reason: 'not today' }))
other.give('gold', 50)
console.log((await other.say('有地图吗？')).actions) // [{ name: 'give_map', ..., status: 'refused', reason: 'not today' }]
convo.stop()
other.stop()
