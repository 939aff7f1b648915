/**
 * The turn builder: what one turn will send (system message, kept history, lore, offered tools)
 * and what it will change if, and only if, it succeeds. Reads the conversation's data, never
 * changes it.
 */
import type { Npc, NpcAction } from '../content/schema.ts'
import { collectSaid, evaluate, saidKey } from '../conditions/evaluate.ts'
import { saidMatcher } from '../conditions/said-pattern.ts'
import type { GameState } from '../conditions/types.ts'
import { buildMessages } from '../prompt/build.ts'
import { offeredActions, toolOf, type GlmTool } from '../actions/tools.ts'
import type { GlmMessage } from '../glm/types.ts'
import type { Revealed, ScriptView } from '../providers/types.ts'
import type { EmbeddingOptions } from '../lore/embeddings.ts'
import { needsEmbeddings, retrieveLoreDetailed, retrieveLoreSync, type LoreChunk, type LoreRetrieval } from '../lore/retrieve.ts'
import { gatedSources, loreGatesHold } from '../lore/gates.ts'
import { halvedWindow } from '../prompt/window.ts'
import { gameState, withUnlocks, newlyUnlocked, type ConversationData } from './state.ts'

/** What one turn will send, and what it will change if, and only if, it succeeds. */
export interface PreparedTurn {
  line: string
  /** The request; for embedding retrieval, what it is before the lore is added (see `withLore`). */
  messages: GlmMessage[]
  /** Ids of the lore chunks in this request. */
  lore: string[]
  /** Gated lore in this request, its carried memories' included (source ids): the conversation keeps them once the turn commits. */
  gatedLore: readonly string[]
  /** Actions offered this turn, and their GLM tools. */
  offered: NpcAction[]
  tools: GlmTool[]
  /** Embedding or hybrid retrieval is asynchronous: this finishes the request once it is done. */
  withLore?: (() => Promise<PreparedRequest>) | undefined
  /** The request with the history window halved, for one more try after `context_exceeded`. */
  halved: () => GlmMessage[]
  /** Unlocked by this very line (`said` conditions): part of this call's system message. */
  unlocked: string[]
  saidMatched: string[]
  script: ScriptView
  revealed: Revealed[]
  /** Embeddings were asked for and not used this turn (failed, or slower than the budget). */
  loreFallback?: LoreRetrieval['fallback']
  /** What conditions saw when the turn began (the line's own `said` unlocks included). */
  state: GameState
}

/** The request once lore is in: what it sends, the lore it carries, and its smaller twin. */
export interface PreparedRequest {
  messages: GlmMessage[]
  lore: string[]
  gatedLore: readonly string[]
  halved: () => GlmMessage[]
  /** Embeddings were asked for and not used this turn (failed, or slower than the budget). */
  loreFallback?: LoreRetrieval['fallback']
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

const noReplies: ScriptView['replies'] = []
const noLore: readonly string[] = Object.freeze([])

/**
 * The scripted view: the replies whose `when` holds (the NPC's own list when none has a `when`).
 * Only a provider that reads `replies` (the scripted one) has them filtered, on its first read:
 * a model provider never does, and the state they are judged by is the turn's, fixed.
 */
function scriptView(npc: Npc, state: GameState): ScriptView {
  const replies = npc.scripted?.replies
  const fallback = npc.scripted?.default
  if (!replies) return { replies: noReplies, default: fallback }
  if (!replies.some((r) => r.when)) return { replies, default: fallback }
  let kept: ScriptView['replies'] | undefined
  return {
    get replies() {
      return (kept ??= replies.filter((r) => !r.when || evaluate(r.when, state)))
    },
    default: fallback,
  }
}

export function prepareTurn(npc: Npc, data: ConversationData, line: string, embeddings?: EmbeddingOptions): PreparedTurn {
  const saidMatched = saidPatterns(npc)
    .filter((p) => !data.said.includes(saidKey(p)) && saidMatcher(p).test(line))
    .map(saidKey)
  const unlocked = newlyUnlocked(npc, data, line)
  const unlockedView = withUnlocks(saidMatched.length ? { ...data, said: [...data.said, ...saidMatched] } : data, unlocked)
  const state = gameState(unlockedView, line)
  // A memory that repeated gated lore is told only where that lore's gates hold in this very request.
  const gated = data.memories?.some((m) => m.lore?.length) ?? false
  const told = gated ? data.memories!.filter((m) => loreGatesHold(npc, m.lore, state)) : data.memories
  // The same array while no gate shuts, so the system message cache (keyed by identity) still hits.
  const memories = told?.length === data.memories?.length ? data.memories : told
  const view = memories === data.memories ? unlockedView : { ...unlockedView, memories }
  const memoryLore = gated ? [...new Set(memories!.flatMap((m) => m.lore ?? []))] : noLore
  let lore: LoreChunk[] = []
  let withLore: PreparedTurn['withLore']
  if (npc.lore) {
    const query = loreQuery(data, line)
    if (needsEmbeddings(npc, embeddings)) {
      withLore = async () => {
        const found = await retrieveLoreDetailed(npc, query, state, embeddings)
        const withChunks = { ...view, lore: loreTexts(npc, found.chunks) }
        return {
          messages: buildMessages(npc, withChunks, data.history, line),
          lore: found.chunks.map((c) => c.id),
          gatedLore: seenLore(npc, memoryLore, found.chunks),
          halved: () => halvedWindow(npc, withChunks, data.history, line),
          ...(found.fallback && { loreFallback: found.fallback }),
        }
      }
    } else lore = retrieveLoreSync(npc, query, state)
  }
  const promptState = lore.length ? { ...view, lore: loreTexts(npc, lore) } : view
  const messages = buildMessages(npc, promptState, data.history, line)
  const script = scriptView(npc, state)
  const revealed = view.fresh.length === 0 ? [] : npc.secrets
    .filter((s) => view.fresh.includes(s.id) && view.unlocked.includes(s.id))
    .map((s) => ({ id: s.id, fact: s.fact, reveal: s.reveal }))
  const offered = offeredActions(npc, state)
  return {
    line, messages, lore: lore.map((c) => c.id), gatedLore: seenLore(npc, memoryLore, lore), withLore, offered, tools: offered.map(toolOf), unlocked, saidMatched, script, revealed, state,
    // A method, not an arrow in a variable: no function name to set on every turn (tsx keeps names).
    halved() {
      return halvedWindow(npc, promptState, data.history, line)
    },
  }
}

/** Gated lore the request carries: its memories' and the retrieved chunks' sources. */
function seenLore(npc: Npc, memoryLore: readonly string[], chunks: readonly LoreChunk[]): readonly string[] {
  return chunks.length === 0 ? memoryLore : [...new Set([...memoryLore, ...gatedSources(npc, chunks)])]
}

