/**
 * The turn builder: what one turn will send (system message, kept history, lore, offered tools)
 * and what it will change if, and only if, it succeeds. Reads the conversation's data, never
 * changes it.
 */
import type { Npc, NpcAction } from '../content/schema.ts'
import { collectSaid, evaluate, saidKey, saidRegex } from '../conditions/evaluate.ts'
import type { GameState } from '../conditions/types.ts'
import { buildMessages } from '../prompt/build.ts'
import { offeredActions, toolFor, type GlmTool } from '../actions/tools.ts'
import type { GlmMessage } from '../glm/types.ts'
import type { Revealed, ScriptView } from '../providers/types.ts'
import type { EmbeddingOptions } from '../lore/embeddings.ts'
import { needsEmbeddings, retrieveLore, retrieveLoreSync, type LoreChunk } from '../lore/retrieve.ts'
import { gameState, withUnlocks, newlyUnlocked, type ConversationData } from './state.ts'

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
  /** What conditions saw when the turn began (the line's own `said` unlocks included). */
  state: GameState
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

const lastLore = new WeakMap<Npc, { chunks: readonly LoreChunk[]; texts: string[] }>()

/**
 * The texts of the retrieved chunks; the same array as last turn when the same chunks were
 * retrieved, so the cached system message (keyed by identity) is reused instead of rebuilt.
 */
function loreTexts(npc: Npc, chunks: readonly LoreChunk[]): string[] {
  const hit = lastLore.get(npc)
  if (hit && hit.chunks.length === chunks.length && hit.chunks.every((c, i) => c === chunks[i])) return hit.texts
  const texts = chunks.map((c) => c.text)
  lastLore.set(npc, { chunks, texts })
  return texts
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
        return { messages: buildMessages(npc, { ...view, lore: loreTexts(npc, chunks) }, data.history, line), lore: chunks.map((c) => c.id) }
      }
    } else lore = retrieveLoreSync(npc, query, state)
  }
  const messages = buildMessages(npc, lore.length ? { ...view, lore: loreTexts(npc, lore) } : view, data.history, line)
  const script: ScriptView = {
    replies: (npc.scripted?.replies ?? []).filter((r) => !r.when || evaluate(r.when, state)),
    default: npc.scripted?.default,
  }
  const revealed = npc.secrets
    .filter((s) => view.fresh.includes(s.id) && view.unlocked.includes(s.id))
    .map((s) => ({ id: s.id, fact: s.fact, reveal: s.reveal }))
  const offered = offeredActions(npc, state)
  return { line, messages, lore: lore.map((c) => c.id), withLore, offered, tools: offered.map(toolFor), unlocked, saidMatched, script, revealed, state }
}

