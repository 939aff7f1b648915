/**
 * The "why" in the behind-the-scenes panel: each secret, lore entry and action as its condition
 * tree, every leaf with its value now (`gold 50/50 ✓`), what the next request would carry and what
 * the last one carried. It renders `conversation.explain` from the API as it is.
 */
export interface ExplainNode { kind: string; label: string; holds: boolean; progress?: string; children?: ExplainNode[] }
export interface ExplainView {
  secrets: Array<{ id: string; unlocked: boolean; condition: ExplainNode; next: 'fact' | 'hint' | 'nothing'; lastCarried: boolean | null }>
  lore: Array<{ id: string; available: boolean; condition?: ExplainNode; lastCarried: string[] }>
  actions: Array<{ name: string; offered: boolean; condition?: ExplainNode }>
  next: { facts: string[]; hints: string[]; lore: string[]; actions: string[]; systemTokens: number }
  last: { facts: string[]; lore: string[]; promptTokens: number } | null
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string) => {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text !== undefined) e.textContent = text
  return e
}
const mark = (on: boolean) => (on ? '✓' : '✗')
const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : '—')

function tree(node: ExplainNode): HTMLUListElement {
  const ul = el('ul', 'tree')
  const li = el('li', node.holds ? 'holds' : 'fails')
  li.append(el('span', 'mark', mark(node.holds)), ` ${node.label}`)
  if (node.progress) li.append(' ', el('b', 'progress', node.progress))
  for (const child of node.children ?? []) li.append(tree(child))
  ul.append(li)
  return ul
}

function entry(className: string, head: string, note: string, condition?: ExplainNode): HTMLLIElement {
  const li = el('li', className)
  const h = el('div', 'why-head')
  h.append(el('strong', undefined, head), el('span', 'why-note', note))
  li.append(h)
  if (condition) li.append(tree(condition))
  return li
}

/** Replaces the secrets list with condition trees and adds lore, actions, next and last request. */
export function renderExplain(e: ExplainView, flash: readonly string[] = []): void {
  const secrets = document.getElementById('bs-secrets')
  if (!secrets) return
  secrets.classList.add('why')
  secrets.replaceChildren(
    ...e.secrets.map((s) => {
      const carried = s.lastCarried === null ? '' : s.lastCarried ? ' · last request: its fact' : ' · last request: not its fact'
      const next = s.next === 'fact' ? 'next request: its fact' : s.next === 'hint' ? 'next request: only its hint' : 'next request: nothing of it'
      const li = entry(`${s.unlocked ? 'open' : 'locked'}${flash.includes(s.id) ? ' flash' : ''}`, `${mark(s.unlocked)} ${s.id} — ${s.unlocked ? 'unlocked' : 'locked'}`, `${next}${carried}`, s.condition)
      li.dataset.secret = s.id
      return li
    }),
  )
  let why = document.getElementById('bs-why')
  if (!why) {
    why = el('div')
    why.id = 'bs-why'
    secrets.after(why)
  }
  const parts: HTMLElement[] = []
  if (e.lore.length) {
    parts.push(el('h4', undefined, 'lore'))
    const ul = el('ul', 'secrets why')
    ul.append(...e.lore.map((l) => entry(l.available ? 'open' : 'locked', `${mark(l.available)} ${l.id}`, `${l.condition ? (l.available ? 'gate open' : 'gated') : 'always available'}${l.lastCarried.length ? ` · last request: ${l.lastCarried.join(', ')}` : ''}`, l.condition)))
    parts.push(ul)
  }
  if (e.actions.length) {
    parts.push(el('h4', undefined, 'actions'))
    const ul = el('ul', 'secrets why')
    ul.append(...e.actions.map((a) => entry(a.offered ? 'open' : 'locked', `${mark(a.offered)} ${a.name}`, a.condition ? (a.offered ? 'offered' : 'not offered') : 'always offered', a.condition)))
    parts.push(ul)
  }
  parts.push(el('h4', undefined, 'next request carries'))
  const next = el('dl', 'facts carry')
  for (const [k, v] of [['facts', list(e.next.facts)], ['hints', list(e.next.hints)], ['lore from', list(e.next.lore)], ['tools', list(e.next.actions)], ['system', `~${e.next.systemTokens} tokens`]] as const) next.append(el('dt', undefined, k), el('dd', undefined, v))
  parts.push(next)
  parts.push(el('h4', undefined, 'last request carried'))
  if (e.last) {
    const last = el('dl', 'facts carry')
    for (const [k, v] of [['facts', list(e.last.facts)], ['lore', list(e.last.lore)], ['prompt', `~${e.last.promptTokens} tokens`]] as const) last.append(el('dt', undefined, k), el('dd', undefined, v))
    parts.push(last)
  } else parts.push(el('p', 'muted', 'no request yet'))
  why.replaceChildren(...parts)
}
