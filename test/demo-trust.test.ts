import { describe, expect, it } from 'vitest'
import { glmProvider, type Npc } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { answerGameRoute, DEMO_INVENTORY } from '../packages/demo-web/inventory.ts'
import { DEMO_RULES, deedMove, rewardMove } from '../packages/demo-web/deeds.ts'
import { varDescriptions } from '../packages/engine/src/vars/values.ts'
import { evaluate } from '../packages/engine/src/conditions/evaluate.ts'
import { useEmulator } from './helpers/emulator.ts'
import { informant } from './helpers/npcs.ts'

/**
 * The demo server plays the game: the player's deeds (paying, threatening) move the informant's
 * trust, a variable the game owns, through the engine's game route. Everything is read from the
 * informant's file and the demo's rules, not copied, and checked on the traffic the GLM emulator
 * recorded: what the model was told, and when.
 */
const GAME_KEY = 'game-key.demo-trust-test-0123456789abcdef'
const emulator = useEmulator()

const NPC = informant()
const RULES = DEMO_RULES[NPC.id]!
const [PAID_WITH, REWARD] = Object.entries(RULES.rewards!)[0]!
const [DEED, THREAT] = Object.entries(RULES.deeds!)[0]!
const TRUST = REWARD.var
const DECL = NPC.vars[TRUST]! as Extract<Npc['vars'][string], { default: number }>
const GOLD = DEMO_INVENTORY[NPC.id]!.start[PAID_WITH]!
const ALL_TOLD = Object.values(NPC.vars).flatMap((d) => (Array.isArray(d.describe) ? d.describe.map((x: { text: string }) => x.text) : Object.values(d.describe ?? {})))
/** The secret a player's trust alone opens (no gift), and the least trust that opens it. */
const [BY_TRUST, NEEDED] = (() => {
  for (const s of NPC.secrets)
    for (let t = DECL.min ?? -100; t <= (DECL.max ?? 100); t++) if (evaluate(s.unlock, { items: {}, flags: [], turns: 0, vars: { ...Object.fromEntries(Object.entries(NPC.vars).map(([n, d]) => [n, d.default])), [TRUST]: t } })) return [s, t] as const
  throw new Error(`no secret of ${NPC.id} opens by ${TRUST} alone`)
})()

function playGame() {
  const handler = createDialogueHandler({ npcs: [NPC], provider: glmProvider({ apiKey: emulator().apiKey, baseUrl: emulator().url }), gameKeys: [GAME_KEY] })
  const npcs = new Map([[NPC.id, NPC]])
  const limits = { maxBytes: 4096, timeoutMs: 1000 }
  const asPlayer = async () => {
    const started = await handler(new Request('http://demo.test/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ npc: NPC.id }) }))
    return { cookie: started.headers.get('set-cookie')!.split(';')[0]!, id: (await started.json()).id as string }
  }
  return {
    handler,
    asPlayer,
    /** The page's request to the game's route, with the player's cookie. */
    async page(cookie: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
      const r = await answerGameRoute(new Request(`http://demo.test${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { cookie, 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) }), path, { handler, npcs, gameKey: GAME_KEY, limits })
      return { status: r.status, json: await r.json() }
    },
    async inspect(cookie: string, id: string) {
      return (await handler(new Request(`http://demo.test/api/conversations/${id}/inspect`, { headers: { authorization: `Bearer ${GAME_KEY}`, cookie } }))).json()
    },
    /** The player says a line; returns the system message the model was sent for it. */
    async say(cookie: string, id: string, text = '你好'): Promise<string> {
      const r = await handler(new Request(`http://demo.test/api/conversations/${id}/messages`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ text }) }))
      expect(r.status).toBe(200)
      return emulator().chatRequests.at(-1)!.body.messages[0].content as string
    },
  }
}

async function started() {
  const game = playGame()
  const { cookie, id } = await game.asPlayer()
  const pay = (count: number) => game.page(cookie, `/demo/conversations/${id}/give`, { item: PAID_WITH, count })
  const threaten = () => game.page(cookie, `/demo/conversations/${id}/deed`, { deed: DEED })
  const trust = async () => (await game.inspect(cookie, id)).vars[TRUST] as number
  return { game, cookie, id, pay, threaten, trust, say: (text?: string) => game.say(cookie, id, text) }
}

describe("the demo's rules for the informant's trust", () => {
  it('are the game\'s to keep: a variable the informant\'s file declares as owned by the game, paid in an item the player holds', () => {
    expect(DECL.owner).toBe('game')
    expect(typeof DECL.default).toBe('number')
    expect(GOLD).toBeGreaterThan(0)
    expect(REWARD.per).toBeGreaterThan(0)
    expect(THREAT.add).toBeLessThan(0)
    // Paying must be a way to the secret: the gold the player holds buys the trust it needs.
    expect(DECL.default + Math.floor(GOLD / REWARD.per) * REWARD.add).toBeGreaterThanOrEqual(NEEDED)
    expect(REWARD.upTo ?? Infinity).toBeGreaterThanOrEqual(NEEDED)
  })

  it('a reward counts over every gift, stops at its cap and never lowers a value raised past it', () => {
    const at = (v: number) => ({ [TRUST]: v })
    expect(rewardMove(NPC, PAID_WITH, 0, REWARD.per - 1, at(0))!.to).toBe(0)
    expect(rewardMove(NPC, PAID_WITH, REWARD.per - 1, 1, at(0))!.to).toBe(REWARD.add)
    const cap = Math.min(REWARD.upTo ?? Infinity, DECL.max ?? Infinity)
    expect(rewardMove(NPC, PAID_WITH, 0, 1000 * REWARD.per, at(0))!.to).toBe(cap)
    if (DECL.max !== undefined && DECL.max > cap) expect(rewardMove(NPC, PAID_WITH, 0, REWARD.per, at(DECL.max))!.to).toBe(DECL.max)
    expect(rewardMove(NPC, 'red_gem', 0, 1, at(0))).toBeUndefined()
  })

  it('a deed is held within the bounds, and only deeds the game lists exist, whatever their name', () => {
    const floor = DECL.min ?? -Infinity
    expect(deedMove(NPC, DEED, { [TRUST]: DECL.default }).to).toBe(Math.max(floor, DECL.default + THREAT.add))
    if (DECL.min !== undefined) expect(deedMove(NPC, DEED, { [TRUST]: DECL.min }).to).toBe(DECL.min)
    for (const forged of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'set_trust', '']) expect(() => deedMove(NPC, forged, {})).toThrow(/no deed/)
  })
})

describe('the demo plays the game: paying raises the informant\'s trust, threatening lowers it', () => {
  it('each step of paying moves trust through the game route, and the next request describes the player by the range it is in', async () => {
    const { pay, trust, say } = await started()
    // Less than one step's worth moves nothing; reaching a step moves it by one.
    expect((await pay(REWARD.per - 1)).json.moved).toBeUndefined()
    expect(await trust()).toBe(DECL.default)
    const paid = await pay(1)
    expect(paid.json.moved).toEqual({ var: TRUST, from: DECL.default, to: DECL.default + REWARD.add })
    expect(paid.json.conversation.vars[TRUST]).toBe(DECL.default + REWARD.add)
    const seen = new Set<string>()
    for (let given = REWARD.per; given <= GOLD; given += REWARD.per) {
      const value = await trust()
      const system = await say()
      const told = varDescriptions(NPC, { [TRUST]: value })
      // The request carries the descriptions for this value, and none of the others.
      for (const t of ALL_TOLD) expect([value, t, system.includes(t)]).toEqual([value, t, told.includes(t)])
      seen.add(told.join('|'))
      if (given + REWARD.per <= GOLD) await pay(REWARD.per)
    }
    // Trust crossed at least one authored range: the informant's manner changed along the way.
    expect(seen.size).toBeGreaterThan(1)
  })

  it('a player the informant trusts enough hears the boss\'s location with no gem; before that, no request carries it', async () => {
    const { game, cookie, id, pay, trust, say } = await started()
    let opened: string[] = []
    while ((await trust()) < NEEDED) {
      expect(await say()).not.toContain(BY_TRUST.fact)
      const r = await pay(REWARD.per)
      expect(r.status).toBe(200)
      opened = r.json.unlocked
    }
    expect(opened).toContain(BY_TRUST.id)
    expect(await say('BOSS在哪？')).toContain(BY_TRUST.fact)
    const view = await game.inspect(cookie, id)
    expect(view.items.red_gem ?? 0).toBe(0)
    expect(view.unlocked).toContain(BY_TRUST.id)
    // Unlocks are sticky: a threat lowers trust below the threshold, the informant still tells.
    const threatened = await game.page(cookie, `/demo/conversations/${id}/deed`, { deed: DEED })
    expect(threatened.json.moved.to).toBeLessThan(NEEDED)
    expect(await say('BOSS在哪？')).toContain(BY_TRUST.fact)
  })

  it('threats lower trust down to its floor and no further, and the informant is told it dislikes the player', async () => {
    const { threaten, trust, say } = await started()
    const floor = DECL.min ?? -Infinity
    let last = DECL.default
    for (let i = 0; i < 10; i++) {
      const r = await threaten()
      expect(r.status).toBe(200)
      expect(r.json.moved).toEqual({ var: TRUST, from: last, to: Math.max(floor, last + THREAT.add) })
      last = r.json.moved.to
    }
    expect(await trust()).toBe(floor)
    const system = await say()
    for (const t of varDescriptions(NPC, { [TRUST]: floor })) expect(system).toContain(t)
    expect(system).not.toContain(BY_TRUST.fact)
  })

  it('paying everything never lifts trust past the cap on what money buys, nor past the bound', async () => {
    const { pay, trust } = await started()
    expect((await pay(GOLD)).status).toBe(200)
    expect(await trust()).toBe(Math.min(REWARD.upTo ?? Infinity, DECL.max ?? Infinity, DECL.default + Math.floor(GOLD / REWARD.per) * REWARD.add))
    expect((await pay(1)).json.error.code).toBe('not_enough_items')
  })

  it('a payment and a threat sent together both count: the game applies them one after the other', async () => {
    const { pay, threaten, trust } = await started()
    const [paid, threatened] = await Promise.all([pay(REWARD.per * 3), threaten()])
    expect([paid.status, threatened.status]).toEqual([200, 200])
    expect(await trust()).toBe(DECL.default + 3 * REWARD.add + THREAT.add)
  })

  it('a gift stands when its reward is refused: the answer says the gold went over and why trust did not move', async () => {
    const { game, cookie, id, trust } = await started()
    // The engine refuses the game's vars call (as it would for a conversation ended meanwhile).
    const refusing = (r: Request) => (r.method === 'POST' && new URL(r.url).pathname.endsWith('/vars') ? Promise.resolve(Response.json({ error: { code: 'conversation_ended', message: 'ended' } }, { status: 409 })) : game.handler(r))
    const path = `/demo/conversations/${id}/give`
    const r = await answerGameRoute(new Request(`http://demo.test${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ item: PAID_WITH, count: REWARD.per }) }), path, { handler: refusing, npcs: new Map([[NPC.id, NPC]]), gameKey: GAME_KEY, limits: { maxBytes: 4096, timeoutMs: 1000 } })
    const body = await r.json()
    expect(r.status).toBe(200)
    expect(body.rewardRefused).toBe('conversation_ended')
    expect(body.moved).toBeUndefined()
    expect(body.conversation.items[PAID_WITH]).toBe(REWARD.per)
    expect(await trust()).toBe(DECL.default)
  })

  it('the inventory route tells the page which deeds it may offer', async () => {
    const { game, cookie, id } = await started()
    const inv = await game.page(cookie, `/demo/conversations/${id}/inventory`)
    expect(inv.json.deeds).toEqual([{ id: DEED, label: THREAT.label }])
  })
})

describe('a forged page request cannot set trust', () => {
  it('the page names a deed and nothing more: extra fields, unknown or prototype-named deeds, a vars route of its own and the engine\'s game route are all refused, and trust stays put', async () => {
    const { game, cookie, id, trust } = await started()
    const forgeries: Array<[string, unknown, number, string]> = [
      [`/demo/conversations/${id}/deed`, { deed: DEED, add: 100 }, 400, 'invalid_body'],
      [`/demo/conversations/${id}/deed`, { deed: DEED, value: 10, var: TRUST }, 400, 'invalid_body'],
      [`/demo/conversations/${id}/deed`, { deed: 'x'.repeat(65) }, 400, 'invalid_body'],
      [`/demo/conversations/${id}/deed`, { deed: ['threaten'] }, 400, 'invalid_body'],
      [`/demo/conversations/${id}/give`, { item: PAID_WITH, count: 1, [TRUST]: 10 }, 400, 'invalid_body'],
      [`/demo/conversations/${id}/vars`, { name: TRUST, value: 10 }, 404, 'not_found'],
      ...['__proto__', 'constructor', 'toString', 'praise', 'set'].map((deed): [string, unknown, number, string] => [`/demo/conversations/${id}/deed`, { deed }, 400, 'unknown_deed']),
    ]
    for (const [path, body, status, code] of forgeries) {
      const r = await game.page(cookie, path, body)
      expect([path, JSON.stringify(body), r.status, r.json.error?.code]).toEqual([path, JSON.stringify(body), status, code])
    }
    // The engine's own route for variables answers the game key only, never the player's cookie.
    const direct = await game.handler(new Request(`http://demo.test/api/conversations/${id}/vars`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: TRUST, value: 10 }) }))
    expect(direct.status).toBeGreaterThanOrEqual(400)
    expect((await direct.json()).error.code).toMatch(/^game_key_/)
    expect(await trust()).toBe(DECL.default)
    expect((await game.inspect(cookie, id)).unlocked).not.toContain(BY_TRUST.id)
  })

  it("another player's deed on this conversation is refused as if it did not exist", async () => {
    const { game, id, trust } = await started()
    const other = await game.asPlayer()
    const r = await game.page(other.cookie, `/demo/conversations/${id}/deed`, { deed: DEED })
    expect(r.status).toBe(404)
    expect(await trust()).toBe(DECL.default)
  })
})
