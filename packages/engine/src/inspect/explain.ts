/**
 * The "why" of a conversation, for designers: each secret, lore entry and action of an NPC with its
 * condition as a tree (every leaf's value now and its progress), what the next request would
 * carry, and what the last one carried. Pure: it reads the NPC and the conversation's facts only,
 * so the CLI, the HTTP inspector and tests all see the same explanation.
 */
import type { Npc, VarValue } from '../content/schema.ts'
import { defaultVars, isNumberVar, varDescriptions } from '../vars/values.ts'
import { evaluate } from '../conditions/evaluate.ts'
import { explainCondition, type ExplainedCondition, type ExplainOptions } from '../conditions/explain.ts'
import type { GameState } from '../conditions/types.ts'
import type { GlmMessage } from '../glm/types.ts'
import { buildSystemMessage } from '../prompt/system.ts'
import { estimateTokens, messageTokens } from '../prompt/tokens.ts'
import { sourceLabel } from '../lore/retrieve.ts'
import { loreGatesHold } from '../lore/gates.ts'

/** What the explanation is computed from: the committed state of a conversation. */
export interface ExplainFacts {
  readonly items: Readonly<Record<string, number>>
  readonly flags: readonly string[]
  readonly turns: number
  /** `said` patterns that matched a committed player line. */
  readonly said: readonly string[]
  readonly unlocked: readonly string[]
  /** Variables' values (absent for facts from before variables: then every one is at its default). */
  readonly vars?: Readonly<Record<string, VarValue>> | undefined
  /** The running summary of older exchanges, once one was written. */
  readonly summary?: { readonly text: string; readonly covers: number; readonly turns: number } | undefined
  /** Memories of the player carried into this conversation, and the secret sets of those held back. */
  readonly memories?: readonly { readonly text: string; readonly secrets: readonly string[]; readonly lore?: readonly string[] | undefined }[] | undefined
  readonly withheld?: readonly (readonly string[])[] | undefined
}

/**
 * A memory of the player: carried into the system message, or held back because one of its
 * secrets is locked here. A held-back memory's text is never shown (it may name a locked fact; the
 * inspector view can reach a player), only the secrets it waits for.
 */
export interface MemoryExplanation {
  text: string
  secrets: string[]
  carried: boolean
}

export interface VarExplanation {
  name: string
  value: VarValue
  owner: 'game' | 'npc'
  /** `-5..10` for a number, `calm | angry` for words. */
  range: string
  note?: string | undefined
  /** The authored descriptions the next request tells the model for this value. */
  told: string[]
}

export interface LastRequestFacts {
  messages: readonly GlmMessage[]
  /** Lore chunk ids (`entry#n`) the request carried. */
  lore: readonly string[]
}

export interface SecretExplanation {
  id: string
  /** Unlocks are sticky: once true, it stays true even if the condition stops holding. */
  unlocked: boolean
  condition: ExplainedCondition
  /** What the next request carries of it: the fact, only the locked hint, or nothing. */
  next: 'fact' | 'hint' | 'nothing'
  /** Whether the last request carried its fact (null: no request yet). */
  lastCarried: boolean | null
}

export interface LoreExplanation {
  id: string
  /** Ungated entries are always available; gated ones only while their condition holds. */
  available: boolean
  condition?: ExplainedCondition | undefined
  /** The entry's chunks in the last request. */
  lastCarried: string[]
}

export interface ActionExplanation {
  name: string
  offered: boolean
  condition?: ExplainedCondition | undefined
}

export interface Explanation {
  npc: string
  turns: number
  items: Record<string, number>
  flags: string[]
  vars: VarExplanation[]
  secrets: SecretExplanation[]
  lore: LoreExplanation[]
  actions: ActionExplanation[]
  /** The running summary the next request carries in its system message, and how many exchanges it covers. */
  summary?: { text: string; coversTurns: number } | undefined
  /** What the NPC remembers of this player from earlier conversations (absent when nothing). */
  memories?: MemoryExplanation[]
  next: {
    /** Secrets whose fact the system message carries, and those it carries only a hint of. */
    facts: string[]
    hints: string[]
    /** Lore entries retrieval may choose from (it picks the chunks that match the player's line). */
    lore: string[]
    /** Actions offered as tools. */
    actions: string[]
    /** Estimated tokens of the system message (the running summary included), before the player's line and the history. */
    systemTokens: number
  }
  last: { facts: string[]; lore: string[]; promptTokens: number } | null
}

/**
 * The system message's size changes only with unlocks, gifts and flags, whose arrays a conversation
 * replaces rather than edits; so the last count per NPC is reused while they are the same.
 */
const tokenCache = new WeakMap<Npc, { unlocked: unknown; items: unknown; flags: unknown; vars: unknown; summary: unknown; memories: unknown; tokens: number }>()

function systemTokens(npc: Npc, facts: ExplainFacts): number {
  const hit = tokenCache.get(npc)
  if (hit && hit.unlocked === facts.unlocked && hit.items === facts.items && hit.flags === facts.flags && hit.vars === facts.vars && hit.summary === facts.summary && hit.memories === facts.memories) return hit.tokens
  const tokens = estimateTokens(buildSystemMessage(npc, { unlocked: facts.unlocked, items: facts.items, flags: facts.flags, vars: facts.vars, summary: facts.summary, memories: facts.memories }))
  tokenCache.set(npc, { unlocked: facts.unlocked, items: facts.items, flags: facts.flags, vars: facts.vars, summary: facts.summary, memories: facts.memories, tokens })
  return tokens
}

/** A sent request never changes: its size is counted once. */
const requestCache = new WeakMap<readonly GlmMessage[], number>()

function requestTokens(messages: readonly GlmMessage[]): number {
  let n = requestCache.get(messages)
  if (n === undefined) requestCache.set(messages, (n = messages.reduce((sum, m) => sum + messageTokens(m.content ?? ''), 0)))
  return n
}

/** Stands in for a held-back memory's text. */
export const MASKED_MEMORY = '•••'

export function explainConversation(npc: Npc, facts: ExplainFacts, last?: LastRequestFacts | undefined, options: ExplainOptions = {}): Explanation {
  const values = facts.vars ?? defaultVars(npc)
  const state: GameState = { items: facts.items, flags: facts.flags, vars: values, turns: facts.turns, saidPatterns: facts.said, unlocked: facts.unlocked }
  const vars = Object.entries(npc.vars).map(([name, decl]): VarExplanation => ({
    name,
    value: Object.hasOwn(values, name) ? values[name]! : decl.default,
    owner: decl.owner,
    range: isNumberVar(decl) ? `${decl.min ?? '-∞'}..${decl.max ?? '∞'}` : decl.one_of.join(' | '),
    ...(decl.note && { note: decl.note }),
    told: varDescriptions({ ...npc, vars: { [name]: decl } }, values),
  }))
  const system = last?.messages.find((m) => m.role === 'system')?.content ?? ''
  const secrets = npc.secrets.map((s): SecretExplanation => {
    const unlocked = facts.unlocked.includes(s.id)
    return {
      id: s.id,
      unlocked,
      condition: explainCondition(s.unlock, state, options),
      next: unlocked ? 'fact' : s.locked_hint ? 'hint' : 'nothing',
      lastCarried: last ? system.includes(s.fact) : null,
    }
  })
  const lore = (npc.lore?.sources ?? []).map((source, i): LoreExplanation => {
    const id = sourceLabel(npc, i)
    return {
      id,
      available: !source.unlock || evaluate(source.unlock, state),
      condition: source.unlock && explainCondition(source.unlock, state, options),
      lastCarried: (last?.lore ?? []).filter((chunk) => chunk.slice(0, chunk.lastIndexOf('#')) === id),
    }
  })
  const actions = npc.actions.map((a): ActionExplanation => ({ name: a.name, offered: !a.when || evaluate(a.when, state), condition: a.when && explainCondition(a.when, state, options) }))
  const memories: MemoryExplanation[] = [
    // A memory that repeated gated lore whose gate is shut now is held back in the request, so it is masked here too.
    ...(facts.memories ?? []).map((m) => (loreGatesHold(npc, m.lore, state) ? { text: m.text, secrets: [...m.secrets], carried: true } : { text: MASKED_MEMORY, secrets: [...m.secrets], carried: false })),
    ...(facts.withheld ?? []).map((secrets) => ({ text: MASKED_MEMORY, secrets: [...secrets], carried: false })),
  ]
  return {
    npc: npc.id,
    turns: facts.turns,
    items: { ...facts.items },
    flags: [...facts.flags],
    vars,
    secrets,
    lore,
    actions,
    ...(facts.summary && { summary: { text: facts.summary.text, coversTurns: facts.summary.turns } }),
    ...(memories.length && { memories }),
    next: {
      facts: secrets.filter((s) => s.next === 'fact').map((s) => s.id),
      hints: secrets.filter((s) => s.next === 'hint').map((s) => s.id),
      lore: lore.filter((l) => l.available).map((l) => l.id),
      actions: actions.filter((a) => a.offered).map((a) => a.name),
      systemTokens: systemTokens(npc, facts),
    },
    last: last
      ? {
          facts: secrets.filter((s) => s.lastCarried).map((s) => s.id),
          lore: [...last.lore],
          promptTokens: requestTokens(last.messages),
        }
      : null,
  }
}
