import { readFile } from 'node:fs/promises'
import { parseNpc, scriptedProvider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'

const path = 'content/npcs/informant.yaml'
const npc = parseNpc(await readFile(path, 'utf8'), path)
// Both secrets come from your secrets store, shared by every server behind the game.
const gameKey = process.env.PARLEY_GAME_KEY ?? 'a-long-random-game-key-from-your-secrets-store'
const handler = createDialogueHandler({
  npcs: [npc],
  provider: scriptedProvider(),
  gameKeys: [gameKey], // without: game routes off
  signingKeys: [{ id: 'k1', secret: process.env.PARLEY_SIGNING_SECRET ?? 'signing-secret-of-at-least-32-characters' }],
})
// Mount it on any server (Deno.serve, Bun.serve, a Node adapter) and pass the peer's address:
// per-address limits key on it (without it, all callers share one bucket).
const parley = (path: string, init: RequestInit) => handler(new Request(`http://127.0.0.1${path}`, init), { address: '127.0.0.1' })

// The game's server acts for its player account: it starts the conversation...
const asGame = { authorization: `Bearer ${gameKey}`, 'x-parley-player': 'account-42', 'content-type': 'application/json' }
const { id } = (await (await parley('/api/conversations', { method: 'POST', headers: asGame, body: JSON.stringify({ npc: 'informant' }) })).json()) as { id: string }
// ...and gives an item the player really has, after debiting its own inventory (`max`: all they own).
const gift = await parley(`/api/conversations/${id}/items`, { method: 'POST', headers: asGame, body: JSON.stringify({ item: 'red_gem', count: 1, max: 1 }) })
console.log(gift.status, await gift.json()) // 200 { unlocked: ['boss_location'], … }
