import { readFile } from 'node:fs/promises'
import { createConversation, glmProvider, parseNpc, ParleyError, restoreConversation, scriptedProvider } from '@parley/engine'

// parseNpc checks the file and throws a ContentError listing every problem (`.issues`). It reads
// no other file: lore under `file:` needs loadNpcFile from '@parley/engine/node'.
const path = 'content/npcs/informant.yaml'
const npc = parseNpc(await readFile(path, 'utf8'), path)

// GLM when a key is set, else the scripted provider: offline, deterministic, from the YAML alone.
const apiKey = process.env.GLM_API_KEY
const provider = apiKey ? glmProvider({ apiKey, baseUrl: process.env.GLM_BASE_URL, model: process.env.GLM_MODEL }) : scriptedProvider()
const convo = createConversation(npc, { provider })
convo.on('secret.unlocked', (e) => console.log(`[unlocked: ${e.secret}]`))

const turn = await convo.say('你好') // { text, kind, state, unlocked, error? }
console.log(`${npc.name}: ${turn.text}`)

const stream = convo.stream('我在找山贼透子') // text deltas as they arrive; `.result` is the turn
for await (const delta of stream) process.stdout.write(delta)
console.log(` (${(await stream.result).kind})`)

convo.give('gold', 50) // the game reports a gift: returns { unlocked: ['bandit_hideout'] }
convo.setFlag('met_boss') // and flags; setFlag('met_boss', false) clears one
convo.setVar('trust', 3) // and variables: returns what it unlocked; unknown names and bad values are refused
console.log(convo.secrets().map((s) => `${s.id}: ${s.unlocked ? 'unlocked' : `locked (${s.condition})`}`).join('\n'))
console.log(`the next request would send ${convo.messages('下一句').length} messages`)

try {
  convo.give('blue_gem')
} catch (error) {
  if (error instanceof ParleyError) console.log(`refused: ${error.code}`) // unknown_item
}

const saved = JSON.stringify(convo.snapshot()) // plain JSON: keep it in the save game
const again = restoreConversation(npc, JSON.parse(saved), { provider })
console.log(`restored, unlocked: ${again.unlocked().join(', ')}`)
convo.stop()
again.stop()
