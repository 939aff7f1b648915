/**
 * The demo server plays the game, and the game owns the player's inventory. The player starts with
 * the NPC's starting set (the informant: the seed's one red gem and 100 gold; any other NPC: one
 * of each item it declares), less what it has handed over, plus what the NPC handed over (an
 * action's flag). With memory on, the NPC's record carries trust from one conversation to the
 * next, so the purse is carried too (purse.ts): what was given and received in any conversation
 * with the NPC, until the player's new game. Without memory, each conversation is a new game.
 * The page asks for a gift or a deed; this module checks the player has the gift and gives it
 * through the engine's game route, with `max` so the engine refuses atomically if two gifts race,
 * and lets deeds.ts move the variables the game owns. Nothing here trusts the page.
 */
import type { Npc } from '@parley/engine'
import { HttpProblem, readJson } from '@parley/engine/http'
import { z } from 'zod'
import { deedMove, deedsFor, rewardMove, serially, type Move } from './deeds.ts'
import type { Purse, PurseBook } from './purse.ts'

export interface NpcInventory {
  /** What the player holds when a conversation with this NPC starts. */
  start: ReadonlyMap<string, number>
  /** Things the NPC hands over, by the flag its action sets: flag → what the player now holds. */
  handOvers: ReadonlyMap<string, string>
}

/** The demo's configuration: the informant as in the seed; other NPCs get one of each declared item. */
export const DEMO_INVENTORY: Record<string, { start: Record<string, number>; handOvers?: Record<string, string> }> = {
  // The seed's gem and 50 gold, and 50 more: enough to buy the informant's trust (deeds.ts) as a second way to the boss.
  informant: { start: { red_gem: 1, gold: 100 }, handOvers: { gave_map: '北边的废墟的地图' } },
}

export function inventoryFor(npc: Npc): NpcInventory {
  const config = Object.hasOwn(DEMO_INVENTORY, npc.id) ? DEMO_INVENTORY[npc.id] : undefined
  const start = new Map(Object.entries(config?.start ?? Object.fromEntries(Object.keys(npc.items).map((id) => [id, 1]))))
  return { start, handOvers: new Map(Object.entries(config?.handOvers ?? {})) }
}

/** The part of the engine's inspector view this module reads. */
export interface GameView {
  npc: string
  items: Record<string, number>
  flags: string[]
  vars?: Record<string, number | string>
}

export interface InventoryView {
  items: Array<{ id: string; name: string; count: number }>
  received: string[]
  /** Deeds the page may offer besides giving (the game decides what each does). */
  deeds: Array<{ id: string; label: string }>
}

/** How many of `item` are handed over: in this conversation, or (with a purse) in any with this NPC. */
function spent(view: GameView, item: string, purse: Purse | undefined): number {
  const here = Object.hasOwn(view.items, item) ? view.items[item]! : 0
  const ever = purse && Object.hasOwn(purse.given, item) ? purse.given[item]! : 0
  return Math.max(here, ever)
}

export function holdings(npc: Npc, view: GameView, purse?: Purse): InventoryView {
  const inv = inventoryFor(npc)
  const items = [...inv.start].flatMap(([id, n]) => {
    const left = n - spent(view, id, purse)
    return left > 0 && Object.hasOwn(npc.items, id) ? [{ id, name: npc.items[id]!.name, count: left }] : []
  })
  const received = [...inv.handOvers].filter(([flag]) => view.flags.includes(flag) || !!purse?.received.includes(flag)).map(([, thing]) => thing)
  return { items, received, deeds: deedsFor(npc) }
}

/** The purse of the player behind the page's request, when the game keeps one across conversations. */
export interface PlayerPurse {
  book: PurseBook
  player: string
}

/**
 * Brings the purse and the conversation in step: what the NPC handed over here goes into the
 * purse, and what it handed over in an earlier conversation has its flag set here too, so the
 * action that hands it over is not offered again (the informant's map is given once).
 */
async function inStep(npc: Npc, id: string, view: GameView, gameCall: GameCall, pp: PlayerPurse | undefined): Promise<{ view: GameView; purse?: Purse }> {
  if (!pp) return { view }
  const flags = [...inventoryFor(npc).handOvers.keys()]
  const here = flags.filter((f) => view.flags.includes(f))
  const purse = await pp.book.change(pp.player, npc.id, (p) => (here.every((f) => p.received.includes(f)) ? undefined : { ...p, received: [...new Set([...p.received, ...here])] }))
  let current = view
  for (const flag of purse.received.filter((f) => flags.includes(f) && !current.flags.includes(f))) {
    const set = await gameCall('POST', `/conversations/${encodeURIComponent(id)}/flags`, { flag })
    // An ended conversation takes no flag: there is no action left to offer either.
    if (set.status === 200 && Array.isArray(set.json?.conversation?.flags)) current = { ...current, flags: set.json.conversation.flags }
  }
  return { view: current, purse }
}

const giveBody = z.strictObject({ item: z.string().min(1).max(100), count: z.int().min(1).max(1_000_000).optional() })
const deedBody = z.strictObject({ deed: z.string().min(1).max(64) })

/**
 * `gameCall(method, path, body?)` calls the engine's handler as the game, acting for the player
 * whose cookie came with the page's request (the engine answers 404 for someone else's conversation).
 */
export type GameCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>

export async function readInventory(npcs: ReadonlyMap<string, Npc>, id: string, gameCall: GameCall): Promise<{ npc: Npc; view: GameView }> {
  const r = await gameCall('GET', `/conversations/${encodeURIComponent(id)}/inspect`)
  if (r.status !== 200) throw new HttpProblem(r.status, r.json?.error?.code ?? 'not_found', r.json?.error?.message ?? 'no such conversation')
  const npc = npcs.get(r.json.npc)
  if (!npc) throw new HttpProblem(404, 'unknown_npc', 'this server has no such NPC')
  return { npc, view: r.json as GameView }
}

/** The page asks to hand `count` of `item` to the NPC; the game checks the player has them. */
export async function handOver(request: Request, npcs: ReadonlyMap<string, Npc>, id: string, gameCall: GameCall, limits: { maxBytes: number; timeoutMs: number }, pp?: PlayerPurse) {
  const body = await readJson(request, giveBody, limits)
  const count = body.count ?? 1
  return serially(id, async () => {
    const read = await readInventory(npcs, id, gameCall)
    const npc = read.npc
    const { view, purse } = await inStep(npc, id, read.view, gameCall, pp)
    const inv = inventoryFor(npc)
    const owned = inv.start.get(body.item) ?? 0
    const name = Object.hasOwn(npc.items, body.item) ? npc.items[body.item]!.name : body.item
    if (owned === 0) throw new HttpProblem(409, 'not_in_inventory', `you have no ${name} to give`)
    const before = Object.hasOwn(view.items, body.item) ? view.items[body.item]! : 0
    const notEnough = (left: number) => new HttpProblem(409, 'not_enough_items', left > 0 ? `you have only ${left} ${name} left, not ${count}` : `you have no ${name} left to give`)
    const paid = spent(view, body.item, purse)
    if (count > owned - paid) throw notEnough(owned - paid)
    // Taken from the purse first, with compare-and-set: two conversations cannot spend the same gold.
    let after = purse
    if (pp) {
      after = await pp.book.change(pp.player, npc.id, (p) => {
        const was = spent(view, body.item, p)
        if (count > owned - was) throw notEnough(owned - was)
        return { ...p, given: { ...p.given, [body.item]: was + count } }
      })
    }
    // `max`: the engine refuses atomically if another gift reached this conversation meanwhile.
    const given = await gameCall('POST', `/conversations/${encodeURIComponent(id)}/items`, { item: body.item, count, max: pp ? before + count : owned })
    if (given.status !== 200) {
      if (pp) await pp.book.change(pp.player, npc.id, (p) => ({ ...p, given: { ...p.given, [body.item]: Math.max(0, (Object.hasOwn(p.given, body.item) ? p.given[body.item]! : 0) - count) } }))
      throw new HttpProblem(given.status, given.json?.error?.code ?? 'internal', given.json?.error?.message ?? 'the gift failed')
    }
    // A gift the game rewards moves a variable it owns (the informant's trust: deeds.ts), counted
    // over everything paid (in earlier conversations too). The gift is made by now: should the
    // reward be refused (the conversation ended meanwhile), the answer still says the gift
    // happened, and why trust did not move.
    const reward = await applyMove(rewardMove(npc, body.item, paid, count, view.vars), id, gameCall).catch((e: unknown) => {
      if (!(e instanceof HttpProblem)) throw e
      return { unlocked: [] as string[], conversation: undefined, moved: undefined, refused: e.code }
    })
    const conversation = reward.conversation ?? given.json.conversation
    const now = { ...view, items: conversation.items, flags: conversation.flags }
    return { unlocked: [...given.json.unlocked, ...reward.unlocked], conversation, ...(reward.moved && { moved: reward.moved }), ...('refused' in reward && { rewardRefused: reward.refused }), inventory: holdings(npc, now, after) }
  })
}

/** The page asks to do a deed (threaten the informant); the game decides what it does to the variables it owns. */
export async function doDeed(request: Request, npcs: ReadonlyMap<string, Npc>, id: string, gameCall: GameCall, limits: { maxBytes: number; timeoutMs: number }, pp?: PlayerPurse) {
  const body = await readJson(request, deedBody, limits)
  return serially(id, async () => {
    const read = await readInventory(npcs, id, gameCall)
    const npc = read.npc
    const { view, purse } = await inStep(npc, id, read.view, gameCall, pp)
    const move = deedMove(npc, body.deed, view.vars)
    const done = await applyMove(move, id, gameCall)
    // A deed at the variable's floor changes nothing, but the page still shows the conversation as it is.
    const conversation = done.conversation ?? view
    return { deed: body.deed, says: move.says, moved: { var: move.var, from: move.from, to: move.to }, unlocked: done.unlocked, conversation, inventory: holdings(npc, { ...view, items: conversation.items, flags: conversation.flags }, purse) }
  })
}

/**
 * Sets the variable the game decided on through the engine's game route (game key: the model and
 * the page never reach it). Nothing to change, nothing sent. A refusal is the caller's error.
 */
async function applyMove(move: Move | undefined, id: string, gameCall: GameCall): Promise<{ unlocked: string[]; conversation?: any; moved?: Move }> {
  if (!move || move.to === move.from) return { unlocked: [] }
  const set = await gameCall('POST', `/conversations/${encodeURIComponent(id)}/vars`, { name: move.var, value: move.to })
  if (set.status !== 200) throw new HttpProblem(set.status, set.json?.error?.code ?? 'internal', set.json?.error?.message ?? 'the game could not set the variable')
  return { unlocked: set.json.unlocked as string[], conversation: set.json.conversation, moved: move }
}

export interface GameRouteOptions {
  handler: (request: Request) => Promise<Response>
  npcs: ReadonlyMap<string, Npc>
  /** The game's own key: the demo server is the game, so it calls the engine's game routes. */
  gameKey: string
  limits: { maxBytes: number; timeoutMs: number }
  /** With memory on: the player's purse with each NPC, carried across conversations as the NPC's record carries trust. */
  purses?: PurseBook | undefined
}

/**
 * The game's routes for its own page (`/demo/conversations/:id/inventory`, `…/give` and `…/deed`), shared
 * by the demo server and `parley dev`. Host and Origin checks are the caller's, before this.
 */
export async function answerGameRoute(request: Request, path: string, o: GameRouteOptions): Promise<Response> {
  const cookie = request.headers.get('cookie') ?? ''
  const gameCall: GameCall = async (method, apiPath, body) => {
    const r = await o.handler(
      new Request(`${new URL(request.url).origin}/api${apiPath}`, {
        method,
        // The player's own token goes along, so the engine refuses a conversation that is not theirs.
        headers: { authorization: `Bearer ${o.gameKey}`, 'content-type': 'application/json', cookie },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
    )
    return { status: r.status, json: await r.json().catch(() => undefined) }
  }
  try {
    if (!cookie) throw new HttpProblem(404, 'not_found', 'no such conversation')
    const player = o.purses && (await o.purses.playerOf(request))
    if (o.purses && !player) throw new HttpProblem(404, 'not_found', 'no such conversation')
    const pp = o.purses && player ? { book: o.purses, player } : undefined
    const m = /^\/demo\/conversations\/([0-9a-f]{32})\/(inventory|give|deed)$/.exec(path)
    if (!m) throw new HttpProblem(404, 'not_found', 'not found')
    const [, id, what] = m as unknown as [string, string, string]
    if (what === 'inventory' && request.method === 'GET') {
      return Response.json(
        await serially(id, async () => {
          const read = await readInventory(o.npcs, id, gameCall)
          const { view, purse } = await inStep(read.npc, id, read.view, gameCall, pp)
          return holdings(read.npc, view, purse)
        }),
      )
    }
    if (what === 'give' && request.method === 'POST') return Response.json(await handOver(request, o.npcs, id, gameCall, o.limits, pp))
    if (what === 'deed' && request.method === 'POST') return Response.json(await doDeed(request, o.npcs, id, gameCall, o.limits, pp))
    throw new HttpProblem(405, 'method_not_allowed', `${request.method} is not allowed here`)
  } catch (error) {
    if (!(error instanceof HttpProblem)) throw error
    return new Response(JSON.stringify({ error: { code: error.code, message: error.message } }), { status: error.status, headers: { 'content-type': 'application/json; charset=utf-8', ...error.headers } })
  }
}
