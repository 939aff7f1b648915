/**
 * The game's rules for what the player's deeds do to a variable it owns (the informant's trust):
 * a gift it rewards (every 10 gold paid) and deeds the page offers as buttons (threatening). The
 * page only names the deed; this module decides by how much the variable moves, clamps it to the
 * variable's bounds and the reward's cap, and sets it through the engine's game route, so neither
 * the page nor the model ever has a say in it.
 *
 * The rules live here, with the game, not in the NPC file: `owner: game` means the NPC file
 * declares the variable and what the NPC makes of it, while what earns it is the game's business
 * (a studio's game would move it from quests, reputation systems and so on). The engine has no
 * notion of a deed, so a `deeds:` key in the file would be one more thing it reads and never runs.
 */
import type { Npc } from '@parley/engine'
import { HttpProblem } from '@parley/engine/http'

/** A gift the game rewards: every `per` of the item handed over moves `var` by `add`, up to `upTo`. */
export interface Reward {
  var: string
  per: number
  add: number
  /** Gifts raise the variable this far and no further (it is also held within its declared bounds). */
  upTo?: number
}

/** A deed the page offers as a button: doing it moves `var` by `add` (held within its bounds). */
export interface Deed {
  var: string
  add: number
  /** The button's label. */
  label: string
  /** What the page says the player did. */
  says: string
}

export interface DemoRules {
  /** Item id → what giving it earns. */
  rewards?: Record<string, Reward>
  /** Deed id → what doing it costs or earns. */
  deeds?: Record<string, Deed>
}

/**
 * The demo's rules, by NPC id. Paying earns the informant's trust, one point per 10 gold (counted
 * over every gift, so 5 and 5 make 10), up to 8: enough for the boss's location without the gem,
 * and the most money buys. A threat costs 2: one is enough for the informant to dislike the player
 * (its description at -2), and all the gold still buys back the trust one threat lost.
 */
export const DEMO_RULES: Record<string, DemoRules> = {
  informant: {
    rewards: { gold: { var: 'trust', per: 10, add: 1, upTo: 8 } },
    deeds: { threaten: { var: 'trust', add: -2, label: '威胁 · Threaten', says: '你把刀拍在柜台上，压低声音威胁' } },
  },
}

export function rulesFor(npc: Npc): DemoRules {
  return Object.hasOwn(DEMO_RULES, npc.id) ? DEMO_RULES[npc.id]! : {}
}

/** The deeds the page may offer for this NPC: only those whose variable the NPC declares as a number. */
export function deedsFor(npc: Npc): Array<{ id: string; label: string }> {
  return Object.entries(rulesFor(npc).deeds ?? {})
    .filter(([, d]) => numberVar(npc, d.var))
    .map(([id, d]) => ({ id, label: d.label }))
}

type NumberDecl = Exclude<Npc['vars'][string], { one_of: readonly string[] }>

function numberVar(npc: Npc, name: string): NumberDecl | undefined {
  const decl = Object.hasOwn(npc.vars, name) ? npc.vars[name]! : undefined
  return decl && !('one_of' in decl) ? decl : undefined
}

const within = (decl: NumberDecl, value: number) => Math.min(decl.max ?? Infinity, Math.max(decl.min ?? -Infinity, value))

/** The variable's value now, as the engine's view says (its default if the view has none). */
export function current(decl: NumberDecl, vars: Readonly<Record<string, unknown>> | undefined, name: string): number {
  const v = vars && Object.hasOwn(vars, name) ? vars[name] : undefined
  return typeof v === 'number' && Number.isFinite(v) ? v : decl.default
}

/** A move of a variable the game decided on: from, to, and what it is. */
export interface Move {
  var: string
  from: number
  to: number
}

/**
 * What handing over `count` more of `item` (after `before` already given) does to a variable.
 * Steps are counted over the running total, so paying in small amounts earns the same as at once.
 * A reward never lowers a value the game raised past its cap some other way.
 */
export function rewardMove(npc: Npc, item: string, before: number, count: number, vars: Readonly<Record<string, unknown>> | undefined): Move | undefined {
  const rules = rulesFor(npc).rewards
  const reward = rules && Object.hasOwn(rules, item) ? rules[item]! : undefined
  const decl = reward && numberVar(npc, reward.var)
  if (!reward || !decl) return undefined
  const steps = Math.floor((before + count) / reward.per) - Math.floor(before / reward.per)
  const from = current(decl, vars, reward.var)
  const cap = Math.min(reward.upTo ?? Infinity, decl.max ?? Infinity)
  const to = reward.add > 0 && from >= cap ? from : within(decl, Math.min(cap, from + steps * reward.add))
  return { var: reward.var, from, to }
}

/** What doing `deed` does; an unknown deed (or one for a variable the NPC lacks) is refused. */
export function deedMove(npc: Npc, deed: string, vars: Readonly<Record<string, unknown>> | undefined): Move & { says: string } {
  const deeds = rulesFor(npc).deeds
  const d = deeds && Object.hasOwn(deeds, deed) ? deeds[deed]! : undefined
  const decl = d && numberVar(npc, d.var)
  if (!d || !decl) throw new HttpProblem(400, 'unknown_deed', `there is no deed "${deed.slice(0, 64)}" with ${npc.id}`)
  const from = current(decl, vars, d.var)
  return { var: d.var, from, to: within(decl, from + d.add), says: d.says }
}

const queues = new Map<string, Promise<unknown>>()

/**
 * Runs the game's read-then-set of one conversation's variables one at a time: without it, a
 * payment and a threat sent together would both read trust 5 and the last write would erase the
 * other deed. One process's lock: servers sharing a Redis store would need the engine to add.
 */
export function serially<T>(conversation: string, work: () => Promise<T>): Promise<T> {
  const before = queues.get(conversation) ?? Promise.resolve()
  const run = before.then(work, work)
  const settled = run.then(
    () => {},
    () => {},
  )
  queues.set(conversation, settled)
  void settled.then(() => queues.get(conversation) === settled && queues.delete(conversation))
  return run
}
