/**
 * The conversation's data and its reducer: gifts, flags, committed and failed turns, and the
 * secrets each change unlocks. Pure functions on immutable data; nothing here talks to a model.
 */
import type { Npc, VarValue } from '../content/schema.ts'
import { defaultVars } from '../vars/values.ts'
import { evaluate } from '../conditions/evaluate.ts'
import type { GameState } from '../conditions/types.ts'
import { History, type HistoryEntry } from '../prompt/history.ts'

/**
 * The older part of the conversation, condensed by the provider (`summarize`, purpose `history`):
 * it stands in for the history entries before `covers`, so the prompt holds it and the exchanges
 * after it. Built only from what was said and earlier summaries, never from a locked fact.
 */
export interface RunningSummary {
  readonly text: string
  /** History entries it covers, from the first; always the start of an exchange. */
  readonly covers: number
  /** The exchanges (turns) among them. */
  readonly turns: number
}

/** Everything a conversation remembers. Plain data: it is what a snapshot saves. */
export interface ConversationData {
  readonly history: History
  readonly items: Readonly<Record<string, number>>
  readonly flags: readonly string[]
  /** Variables' values, every declared one present (see `defaultVars`). */
  readonly vars: Readonly<Record<string, VarValue>>
  readonly unlocked: readonly string[]
  /** `said` patterns that matched a committed player line. */
  readonly said: readonly string[]
  /** Secrets unlocked since the NPC last spoke (the scripted provider reveals them). */
  readonly fresh: readonly string[]
  readonly turns: number
  /** Consecutive failed turns. */
  readonly failures: number
  /** The running summary of older exchanges, once one was written. */
  readonly summary?: RunningSummary | undefined
  /**
   * Memories of this player carried in from earlier conversations (memory/carry.ts): each only if
   * every secret it was written under is unlocked here, so none can carry a fact past a lock.
   */
  readonly memories?: readonly CarriedMemory[] | undefined
  /** The secret sets of the player's memories held back because one of their secrets is locked here; never their text. */
  readonly withheld?: readonly (readonly string[])[] | undefined
  /**
   * Gated lore this conversation has sent (source ids, `lore[i]` for an entry without one),
   * counting the lore gates of the memories it carried: a memory written of it is carried only
   * where those gates hold, so no memory repeats gated lore past its gate.
   */
  readonly gatedLore?: readonly string[] | undefined
  /**
   * Where a conversation opened by the memory keeper began (memory/carry.ts), kept in its save: when it started
   * (ms since the epoch), and the unlocks and variables it took from the record. When it ends, the
   * record takes only what it changed itself, so a reset or a "new game" made meanwhile holds.
   */
  readonly origin?: ConversationOrigin | undefined
}

export interface ConversationOrigin {
  readonly startedAt: number
  readonly unlocked: readonly string[]
  readonly vars: Readonly<Record<string, VarValue>>
}

export interface CarriedMemory {
  readonly text: string
  readonly secrets: readonly string[]
  /** Gated lore it repeats (source ids): it is told in a request only where each of those gates holds. */
  readonly lore?: readonly string[] | undefined
}

export const emptyData: ConversationData = { history: History.empty, items: {}, flags: [], vars: {}, unlocked: [], said: [], fresh: [], turns: 0, failures: 0 }

export function gameState(data: ConversationData, currentLine?: string): GameState {
  return { items: data.items, flags: data.flags, vars: data.vars, turns: data.turns, saidPatterns: data.said, unlocked: data.unlocked, currentLine }
}

/**
 * Secrets whose condition holds now but were locked before. Unlocks are sticky. A secret may wait
 * for another (`unlocked: id`), so this repeats until nothing more unlocks.
 */
export function newlyUnlocked(npc: Npc, data: ConversationData, currentLine?: string): string[] {
  const found: string[] = []
  // Secrets see only the variables the game owns: lint refuses the rest, and this holds for an NPC
  // built in code without lint too, so no variable the model's actions move can open a secret.
  const vars = gameOwnedVars(npc, data.vars)
  // Runs twice a turn: one state object per pass and plain loops, no intermediate arrays.
  for (;;) {
    const state: GameState = { items: data.items, flags: data.flags, vars, turns: data.turns, saidPatterns: data.said, unlocked: found.length ? [...data.unlocked, ...found] : data.unlocked, currentLine }
    let more = false
    for (const s of npc.secrets) {
      if (data.unlocked.includes(s.id) || found.includes(s.id) || !evaluate(s.unlock, state)) continue
      found.push(s.id)
      more = true
    }
    if (!more) return found
  }
}

function gameOwnedVars(npc: Npc, vars: ConversationData['vars']): ConversationData['vars'] {
  let all = true
  for (const name in vars) if (Object.hasOwn(vars, name) && npc.vars[name]?.owner !== 'game') all = false
  if (all) return vars
  const npcOwned = Object.keys(vars).filter((name) => npc.vars[name]?.owner !== 'game')
  return Object.fromEntries(Object.entries(vars).filter(([name]) => !npcOwned.includes(name)))
}

export function withUnlocks(data: ConversationData, ids: readonly string[]): ConversationData {
  if (ids.length === 0) return data
  return { ...data, unlocked: [...data.unlocked, ...ids], fresh: [...data.fresh, ...ids] }
}

export interface Change {
  data: ConversationData
  unlocked: string[]
}

/** `next` with every secret that its state now unlocks, and which those were. */
function unlockFrom(npc: Npc, next: ConversationData): Change {
  const unlocked = newlyUnlocked(npc, next)
  return { data: withUnlocks(next, unlocked), unlocked }
}

export function giveItem(npc: Npc, data: ConversationData, item: string, count: number): Change {
  // Own properties only: an item id such as "constructor" must never read Object.prototype's.
  const had = Object.hasOwn(data.items, item) ? data.items[item]! : 0
  return unlockFrom(npc, { ...data, items: { ...data.items, [item]: had + count } })
}

export function setFlag(npc: Npc, data: ConversationData, flag: string, on: boolean): Change {
  const has = data.flags.includes(flag)
  if (has === on) return { data, unlocked: [] }
  return unlockFrom(npc, { ...data, flags: on ? [...data.flags, flag] : data.flags.filter((f) => f !== flag) })
}

/** A new conversation's data: every variable at its default. */
export function initialData(npc: Npc): ConversationData {
  return Object.keys(npc.vars).length ? { ...emptyData, vars: defaultVars(npc) } : emptyData
}

/** The game sets a variable (already checked against its declaration). */
export function setVar(npc: Npc, data: ConversationData, name: string, value: VarValue): Change {
  if (data.vars[name] === value) return { data, unlocked: [] }
  return unlockFrom(npc, { ...data, vars: { ...data.vars, [name]: value } })
}

/** What a turn's commit needs from the prepared turn: the line and what it matched. */
export interface CommittedLine {
  line: string
  unlocked: readonly string[]
  saidMatched: readonly string[]
  /** Gated lore in the turn's request, its memories' included (source ids; see `gatedLore`). */
  gatedLore?: readonly string[] | undefined
}

/**
 * Records a successful turn on the data as it is now (items or flags given while the call was in
 * flight are kept), then checks unlocks that depend on the turn count.
 */
export function commitTurn(npc: Npc, data: ConversationData, turn: CommittedLine, reply: string, extra: readonly HistoryEntry[] = []): Change {
  const history = data.history.append({ role: 'user', content: turn.line }, ...extra, { role: 'assistant', content: reply })
  // Most turns match no pattern, unlock nothing and send no gated lore: no filtered copies then.
  const newSaid = turn.saidMatched.length ? turn.saidMatched.filter((s) => !data.said.includes(s)) : noIds
  const said = newSaid.length ? [...data.said, ...newSaid] : data.said
  const fromLine = turn.unlocked.length ? turn.unlocked.filter((id) => !data.unlocked.includes(id)) : noIds
  const seen = turn.gatedLore?.length ? turn.gatedLore.filter((id) => !data.gatedLore?.includes(id)) : noIds
  const next: ConversationData = { ...data, history, said, turns: data.turns + 1, failures: 0, unlocked: fromLine.length ? [...data.unlocked, ...fromLine] : data.unlocked, fresh: data.fresh.length ? [] : data.fresh }
  const later = unlockFrom(npc, seen.length ? { ...next, gatedLore: [...(data.gatedLore ?? []), ...seen] } : next)
  return { data: later.data, unlocked: fromLine.length ? [...fromLine, ...later.unlocked] : later.unlocked }
}

const noIds: readonly string[] = []

export function failTurn(data: ConversationData): ConversationData {
  return { ...data, failures: data.failures + 1 }
}
