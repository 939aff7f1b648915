/** The page's side of the demo: Parley's /api through @parley/client, and the demo server's own /demo routes. */
import { createParleyClient, ParleyError } from '@parley/client'
import type { ExplainView } from './explain-panel.ts'
export interface Secret { id: string; unlocked: boolean; condition: string }
export interface Message { role: string; content: string; tool_calls?: unknown[] }
export interface ConversationView {
  id: string
  npc: string
  provider: string
  state: string
  turns: number
  items: Record<string, number>
  flags: string[]
  /** Each variable the NPC declares, with its value now. */
  vars?: Record<string, number | string>
  secrets: Secret[]
  history: Message[]
  lastRequest: Message[] | null
  lore?: string[]
  /** Each secret, lore entry and action with its condition tree (passphrases masked). */
  explain?: ExplainView
}
export interface TurnView {
  text: string
  kind: 'reply' | 'nudge' | 'farewell' | 'fallback'
  state: string
  unlocked: string[]
  error?: { code: string; glmCode: string | null }
  actions?: Array<{ name: string; args?: Record<string, unknown>; status: 'done' | 'refused' | 'invalid' }>
  conversation: ConversationView
}
/** What the demo server (the game) says the player holds. */
export interface Inventory { items: Array<{ id: string; name: string; count: number }>; received: string[]; deeds?: Array<{ id: string; label: string }> }
/** How the game moved a variable it owns after a gift or a deed. */
export interface Moved { var: string; from: number; to: number }
export interface NpcInfo { id: string; name: string; greeting: string | null; items: Array<{ id: string; name: string }>; provider: string }

const parley = createParleyClient({ baseUrl: '/api' })

/** The demo server's own routes (the game's, not Parley's). */
async function demo<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`/demo${path}`, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } })
  const body = (await res.json().catch(() => ({}))) as T & { error?: { code?: string; message: string } }
  if (!res.ok) throw new ParleyError(res.status, body.error?.code ?? `http_${res.status}`, body.error?.message ?? `HTTP ${res.status}`)
  return body
}

export const api = {
  npcs: () => parley.npcs() as Promise<{ npcs: NpcInfo[] }>,
  start: (npc: string, save?: unknown) => parley.start(npc, { save }) as unknown as Promise<ConversationView & { greeting: string | null; returning?: boolean }>,
  /** A signed save: the server refuses it back if anything in it was changed. */
  save: (id: string) => parley.save(id) as Promise<unknown>,
  /** The game (the demo server) hands the item over for the player, if the player has it. */
  give: (id: string, item: string, count: number) => demo<{ unlocked: string[]; conversation: ConversationView; inventory: Inventory; moved?: Moved; rewardRefused?: string }>(`/conversations/${id}/give`, { method: 'POST', body: JSON.stringify({ item, count }) }),
  /** A deed (threatening): the page names it, the game decides what it does. */
  deed: (id: string, deed: string) => demo<{ says: string; moved: Moved; unlocked: string[]; conversation: ConversationView; inventory: Inventory }>(`/conversations/${id}/deed`, { method: 'POST', body: JSON.stringify({ deed }) }),
  inventory: (id: string) => demo<Inventory>(`/conversations/${id}/inventory`),
  get: (id: string) => parley.view(id) as unknown as Promise<ConversationView>,

  /** Streams a turn: `onDelta` per token, resolves with the finished turn. */
  async say(id: string, text: string, onDelta: (t: string) => void): Promise<TurnView> {
    for await (const e of parley.stream(id, text)) {
      // After a cut connection the client fetches the turn again (`restart`); the page shows the
      // finished turn's text in the end anyway, so a restart needs nothing here.
      if (e.type === 'delta') onDelta(e.text)
      else if (e.type === 'done') return e.turn as unknown as TurnView
    }
    throw new Error('the connection closed before the reply finished')
  },
}
