import type { Npc } from '../content/schema.ts'
import { collectSaid, evaluate, saidKey, saidRegex } from '../conditions/evaluate.ts'
import type { GameState } from '../conditions/types.ts'
import { buildMessages } from '../prompt/build.ts'
import { History, type HistoryEntry } from '../prompt/history.ts'
import { offeredActions, toolFor, type GlmTool } from '../actions/tools.ts'
import type { NpcAction } from '../content/schema.ts'
import type { GlmMessage } from '../glm/types.ts'
import type { Revealed, ScriptView } from '../providers/types.ts'
import type { EmbeddingOptions } from '../lore/embeddings.ts'
import { needsEmbeddings, retrieveLore, retrieveLoreSync, type LoreChunk } from '../lore/retrieve.ts'

/** Everything a conversation remembers. Plain data: it is what a snapshot saves. */
export interface ConversationData {
  readonly history: History
  readonly items: Readonly<Record<string, number>>
  readonly flags: readonly string[]
  readonly unlocked: readonly string[]
  /** `said` patterns that matched a committed player line. */
  readonly said: readonly string[]
  /** Secrets unlocked since the NPC last spoke (the scripted provider reveals them). */
  readonly fresh: readonly string[]
  readonly turns: number
  /** Consecutive failed turns. */
  readonly failures: number
}

export const emptyData: ConversationData = { history: History.empty, items: {}, flags: [], unlocked: [], said: [], fresh: [], turns: 0, failures: 0 }

function gameState(data: ConversationData, currentLine?: string): GameState {
  return { items: data.items, flags: data.flags, turns: data.turns, saidPatterns: data.said, unlocked: data.unlocked, currentLine }
}

/**
 * Secrets whose condition holds now but were locked before. Unlocks are sticky. A secret may wait
 * for another (`unlocked: id`), so this repeats until nothing more unlocks.
 */
export function newlyUnlocked(npc: Npc, data: ConversationData, currentLine?: string): string[] {
  const found: string[] = []
  for (;;) {
    const state = gameState(found.length ? { ...data, unlocked: [...data.unlocked, ...found] } : data, currentLine)
    const more = npc.secrets.filter((s) => !data.unlocked.includes(s.id) && !found.includes(s.id) && evaluate(s.unlock, state)).map((s) => s.id)
    if (more.length === 0) return found
    found.push(...more)
  }
}

function withUnlocks(data: ConversationData, ids: readonly string[]): ConversationData {
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
  return unlockFrom(npc, { ...data, items: { ...data.items, [item]: (data.items[item] ?? 0) + count } })
}

export function setFlag(npc: Npc, data: ConversationData, flag: string, on: boolean): Change {
  const has = data.flags.includes(flag)
  if (has === on) return { data, unlocked: [] }
  return unlockFrom(npc, { ...data, flags: on ? [...data.flags, flag] : data.flags.filter((f) => f !== flag) })
}

/** What one turn will send, and what it will change if, and only if, it succeeds. */
export interface PreparedTurn {
  line: string
  /** The request; for embedding retrieval, what it is before the lore is added (see `withLore`). */
  messages: GlmMessage[]
  /** Ids of the lore chunks in this request. */
  lore: string[]
  /** Actions offered this turn, and their GLM tools. */
  offered: NpcAction[]
  tools: GlmTool[]
  /** Embedding or hybrid retrieval is asynchronous: this finishes the request once it is done. */
  withLore?: (() => Promise<{ messages: GlmMessage[]; lore: string[] }>) | undefined
  /** Unlocked by this very line (`said` conditions): part of this call's system message. */
  unlocked: string[]
  saidMatched: string[]
  script: ScriptView
  revealed: Revealed[]
}

const saidCache: WeakMap<Npc, Array<{ matches: string; ignore_case?: boolean | undefined }>> = new WeakMap()

function saidPatterns(npc: Npc) {
  let list = saidCache.get(npc)
  if (!list) {
    list = npc.secrets.flatMap((s) => collectSaid(s.unlock))
    for (const reply of npc.scripted?.replies ?? []) if (reply.when) collectSaid(reply.when, list)
    saidCache.set(npc, list)
  }
  return list
}

/** What retrieval searches with: the player's line and the one before it, for follow-up questions. */
function loreQuery(data: ConversationData, line: string): string {
  const previous = data.history.length >= 2 ? data.history.tail(2)[0]!.content : ''
  return previous ? `${line}\n${previous}` : line
}

export function prepareTurn(npc: Npc, data: ConversationData, line: string, embeddings?: EmbeddingOptions): PreparedTurn {
  const saidMatched = saidPatterns(npc)
    .filter((p) => !data.said.includes(saidKey(p)) && saidRegex(p).test(line))
    .map(saidKey)
  const unlocked = newlyUnlocked(npc, data, line)
  const view = withUnlocks({ ...data, said: [...data.said, ...saidMatched] }, unlocked)
  const state = gameState(view, line)
  let lore: LoreChunk[] = []
  let withLore: PreparedTurn['withLore']
  if (npc.lore) {
    const query = loreQuery(data, line)
    if (needsEmbeddings(npc, embeddings)) {
      withLore = async () => {
        const chunks = await retrieveLore(npc, query, state, embeddings)
        return { messages: buildMessages(npc, { ...view, lore: chunks.map((c) => c.text) }, data.history, line), lore: chunks.map((c) => c.id) }
      }
    } else lore = retrieveLoreSync(npc, query, state)
  }
  const messages = buildMessages(npc, lore.length ? { ...view, lore: lore.map((c) => c.text) } : view, data.history, line)
  const script: ScriptView = {
    replies: (npc.scripted?.replies ?? []).filter((r) => !r.when || evaluate(r.when, state)),
    default: npc.scripted?.default,
  }
  const revealed = npc.secrets
    .filter((s) => view.fresh.includes(s.id) && view.unlocked.includes(s.id))
    .map((s) => ({ id: s.id, fact: s.fact, reveal: s.reveal }))
  const offered = offeredActions(npc, state)
  return { line, messages, lore: lore.map((c) => c.id), withLore, offered, tools: offered.map(toolFor), unlocked, saidMatched, script, revealed }
}

/**
 * Records a successful turn on the data as it is now (items or flags given while the call was in
 * flight are kept), then checks unlocks that depend on the turn count.
 */
export function commitTurn(npc: Npc, data: ConversationData, turn: PreparedTurn, reply: string, extra: readonly HistoryEntry[] = []): Change {
  const history = data.history.append({ role: 'user', content: turn.line }, ...extra, { role: 'assistant', content: reply })
  const newSaid = turn.saidMatched.filter((s) => !data.said.includes(s))
  const said = newSaid.length ? [...data.said, ...newSaid] : data.said
  const fromLine = turn.unlocked.filter((id) => !data.unlocked.includes(id))
  const later = unlockFrom(npc, { ...data, history, said, turns: data.turns + 1, failures: 0, unlocked: fromLine.length ? [...data.unlocked, ...fromLine] : data.unlocked, fresh: data.fresh.length ? [] : data.fresh })
  return { data: later.data, unlocked: [...fromLine, ...later.unlocked] }
}

export function failTurn(data: ConversationData): ConversationData {
  return { ...data, failures: data.failures + 1 }
}

/** Exit phrases match whatever the width of the punctuation or the spacing: "任务结束！" is "任务结束! ". */
export function normalizePhrase(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, '').toLowerCase()
}

const exitCache = new WeakMap<Npc, ReadonlySet<string>>()

export function isExitPhrase(npc: Npc, line: string): boolean {
  let phrases = exitCache.get(npc)
  if (!phrases) exitCache.set(npc, (phrases = new Set(npc.exit_phrases.map(normalizePhrase))))
  // Long lines are never exit phrases; skip normalising them.
  if (line.length > 200) return false
  const n = normalizePhrase(line)
  return n !== '' && phrases.has(n)
}
