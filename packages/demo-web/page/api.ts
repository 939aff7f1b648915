/** The page's side of the demo's /api: fetch and a small SSE reader, nothing else. */
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
export interface Inventory { items: Array<{ id: string; name: string; count: number }>; received: string[] }
export interface NpcInfo { id: string; name: string; greeting: string | null; items: Array<{ id: string; name: string }>; provider: string }

async function call<T>(path: string, init?: RequestInit, prefix = '/api'): Promise<T> {
  const res = await fetch(`${prefix}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } })
  const body = (await res.json().catch(() => ({}))) as T & { error?: { message: string } }
  if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`)
  return body
}

export const api = {
  npcs: () => call<{ npcs: NpcInfo[] }>('/npcs'),
  start: (npc: string, save?: unknown) => call<ConversationView & { greeting: string | null }>('/conversations', { method: 'POST', body: JSON.stringify(save === undefined ? { npc } : { npc, save }) }),
  /** A signed save: the server refuses it back if anything in it was changed. */
  save: (id: string) => call<unknown>(`/conversations/${id}/save`),
  /** The game (the demo server) hands the item over for the player, if the player has it. */
  give: (id: string, item: string, count: number) => call<{ unlocked: string[]; conversation: ConversationView; inventory: Inventory }>(`/demo/conversations/${id}/give`, { method: 'POST', body: JSON.stringify({ item, count }) }, ''),
  inventory: (id: string) => call<Inventory>(`/demo/conversations/${id}/inventory`, undefined, ''),
  get: (id: string) => call<ConversationView>(`/conversations/${id}`),

  /** Streams a turn: `onDelta` per token, resolves with the finished turn. */
  async say(id: string, text: string, onDelta: (t: string) => void): Promise<TurnView> {
    const res = await fetch(`/api/conversations/${id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ text }) })
    if (!res.ok || !res.body) {
      const body = (await res.json().catch(() => ({}))) as { error?: { message: string } }
      throw new Error(body.error?.message ?? `HTTP ${res.status}`)
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    let done: TurnView | undefined
    for (;;) {
      const { value, done: end } = await reader.read()
      if (end) break
      buffer += value
      let cut
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut)
        buffer = buffer.slice(cut + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (!data) continue
        const payload = JSON.parse(data)
        if (event === 'delta') onDelta(payload.text)
        else if (event === 'done') done = payload
        else if (event === 'error') throw new Error(payload.error?.message ?? 'the turn failed')
      }
    }
    if (!done) throw new Error('the connection closed before the reply finished')
    return done
  },
}
