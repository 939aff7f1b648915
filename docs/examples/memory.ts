import { readFile } from 'node:fs/promises'
import { MemoryConversationStore, MemoryKeeper, parseNpc, scriptedProvider } from '@parley/engine'

const path = 'content/npcs/informant.yaml'
const informant = parseNpc(await readFile(path, 'utf8'), path)
const provider = scriptedProvider() // or glmProvider(…): it also writes the memories (`summarize`)

// Records live in the conversation store: this process's memory here, RedisConversationStore
// (`@parley/engine/redis`) to keep them across restarts and servers.
const keeper = new MemoryKeeper({ store: new MemoryConversationStore(), onError: (error) => console.error('memory:', error) })

const first = await keeper.open(informant, 'player-42', { provider })
console.log(`${informant.name}: ${first.greeting}`)
await first.say('我叫阿杰，替我父亲来打听消息')
first.give('red_gem')
first.end() // answers at once; the memory is written in the background
await keeper.settled() // a game need not wait for it; this example does, to show the next conversation

const again = await keeper.open(informant, 'player-42', { provider })
console.log(`returning: ${again.returning}`)
console.log(`${informant.name}: ${again.greeting}`)
console.log(`unlocked: ${again.unlocked().join(', ')}`) // what the player earned carries over
for (const m of again.explain().memories ?? []) console.log(`remembers: ${m.text}`)

await keeper.newGame('player-42', [informant.id]) // the player's "new game": the record is emptied
console.log(`after a new game, returning: ${(await keeper.open(informant, 'player-42', { provider })).returning}`)
await keeper.forget('player-42') // the game: the player's right to be forgotten
