import { readFile } from 'node:fs/promises'
import { createConversation, parseNpc, scriptedProvider } from '@parley/engine'

const path = 'content/npcs/informant.yaml'
const npc = parseNpc(await readFile(path, 'utf8'), path)
const convo = createConversation(npc, { provider: scriptedProvider() })

// Trust is `owner: game`: the game's own rules move it, never the model's actions. setVar refuses a
// value outside the declared bounds, so the game clamps first.
const trust = npc.vars.trust!
if ('one_of' in trust) throw new Error('trust is a number')
const within = (v: number) => Math.min(trust.max ?? Infinity, Math.max(trust.min ?? -Infinity, v))
function deed(what: string, by: number) {
  const from = convo.vars().trust as number
  const { unlocked } = convo.setVar('trust', within(from + by))
  const told = convo.explain().vars.find((v) => v.name === 'trust')!.told // what the next request tells the model
  console.log(`${what}: trust ${from} → ${convo.vars().trust}${unlocked.length ? ` · unlocked ${unlocked.join(', ')}` : ''} · told: ${told.join(' ') || 'nothing'}`)
}

// The demo's rules (packages/demo-web/deeds.ts): a point per 10 gold paid, up to 8; a threat costs 2.
deed('threatened', -2)
deed('paid 50 gold', +5)
deed('paid 50 gold', +5) // 8: the second way to the boss's location, without the gem
deed('threatened', -2) // unlocks are sticky: the manner cools, the secret stays told
console.log(convo.messages('BOSS在哪？')[0]!.content!.includes('幕后BOSS就在山庄里')) // true
convo.stop()
