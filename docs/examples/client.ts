import { createParleyClient, ParleyError } from '@parley/client'

const base = process.env.PARLEY_URL ?? 'http://127.0.0.1:8787/api'
// The game's server: its key never leaves it.
const game = createParleyClient({ baseUrl: base, gameKey: process.env.PARLEY_GAME_KEY })
const account = { id: 'acct-42' }
const { token } = await game.playerToken(account.id) // hand this to the game client

// The game client (or a browser page with baseUrl '/api' and its cookie instead of a token):
const parley = createParleyClient({ baseUrl: base, playerToken: token })
const convo = await parley.start('informant')
for await (const e of parley.stream(convo.id, '你好', { signal: AbortSignal.timeout(30_000) })) {
  if (e.type === 'delta') process.stdout.write(e.text)
  if (e.type === 'restart') process.stdout.write('\n(the connection was cut; the turn is fetched again)\n')
  if (e.type === 'done') console.log(`\n[unlocked: ${e.turn.unlocked.join(', ') || 'nothing'}]`)
}

// Back on the game's server, acting for that player, after debiting its own inventory:
const gift = await game.forPlayer(account.id).give(convo.id, { item: 'red_gem', count: 1, max: 1 })
console.log('gave red_gem, unlocked:', gift.unlocked.join(', '))
try {
  await game.forPlayer(account.id).give(convo.id, { item: 'red_gem', count: 1, max: 1 })
} catch (e) {
  if (!(e instanceof ParleyError && e.code === 'not_enough_items')) throw e
  console.log('a second red gem refused: the player has none left')
}
const save = await parley.save(convo.id) // later: parley.restore('informant', save)
console.log(`a signed save of ${save.npc}`)
