/**
 * What each caller sees of a conversation. The player's view is its own side of the talk: lines
 * said, the state, what it gave, which secrets opened. The inspector view (the game's, and the
 * demo page's when the server opts in) adds flags, every secret's condition, the last request's
 * messages and the lore it carried, with `said` passphrase patterns masked. Neither ever carries a
 * locked fact: facts reach `lastRequest` only once unlocked, and conditions name ids, not facts.
 */
import type { Condition } from '../conditions/types.ts'
import { describeCondition } from '../conditions/evaluate.ts'
import type { Conversation } from '../conversation/conversation.ts'
import type { TurnResult } from '../conversation/results.ts'
import type { GlmMessage } from '../glm/types.ts'

export const MASK = '•••'

/** A condition with every passphrase pattern replaced by a mask. */
export function maskSaid(c: Condition): Condition {
  if ('said' in c) return { said: { ...c.said, matches: MASK } }
  if ('all' in c) return { all: c.all.map(maskSaid) }
  if ('any' in c) return { any: c.any.map(maskSaid) }
  if ('not' in c) return { not: maskSaid(c.not) }
  return c
}

export interface ViewSource {
  id: string
  convo: Conversation
  provider: string
  /** What the last call sent, kept by the store when this process did not run it. */
  stored?: { lastRequest: GlmMessage[] | null; lore: string[] } | undefined
}

/** The player's side of the conversation, after each turn. */
export function playerStatus(s: ViewSource) {
  const c = s.convo
  return { id: s.id, npc: c.npc.id, state: c.state, turns: c.turns, items: c.items(), unlocked: c.unlocked() }
}

/** The player's view with its lines: the machinery of actions (tool calls and results) left out. */
export function playerView(s: ViewSource) {
  const history = s.convo.history().filter((h) => h.role !== 'tool' && !h.tool_calls).map((h) => ({ role: h.role, content: h.content }))
  return { ...playerStatus(s), history }
}

/** For a designer's panel after each turn: small, whatever the conversation's length. */
export function inspectorStatus(s: ViewSource) {
  const c = s.convo
  const last = c.lastRequest()
  const unlocked = new Set(c.unlocked())
  return {
    ...playerStatus(s),
    provider: s.provider,
    flags: c.flags(),
    vars: c.vars(),
    secrets: c.npc.secrets.map((x) => ({ id: x.id, unlocked: unlocked.has(x.id), condition: describeCondition(maskSaid(x.unlock)) })),
    // Why each secret, lore entry and action holds or not; passphrases masked all the same.
    explain: c.explain({ hidePatterns: true }),
    lastRequest: last ?? s.stored?.lastRequest ?? null,
    lore: last ? c.lastLore() : (s.stored?.lore ?? []),
  }
}

export function inspectorView(s: ViewSource) {
  return { ...inspectorStatus(s), history: s.convo.history() }
}

/** What the page and the game see of a turn: never raw error text, only codes. */
export function publicResult(r: TurnResult) {
  return {
    text: r.text,
    kind: r.kind,
    state: r.state,
    unlocked: r.unlocked,
    ...(r.error && { error: { code: r.error.code, glmCode: r.error.glmCode ?? null, retryable: r.error.retryable } }),
    ...(r.finishReason && { finishReason: r.finishReason }),
    ...(r.actions && { actions: r.actions }),
    ...(r.contextTrimmed && { contextTrimmed: true }),
    // The reason only: the message may carry the embeddings service's own words.
    ...(r.loreFallback && { loreFallback: r.loreFallback.reason }),
  }
}
