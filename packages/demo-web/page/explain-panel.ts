/**
 * The "why" in the behind-the-scenes panel: the variables (value, bounds, the description the model
 * is told), each secret, lore entry and action as its condition tree, every leaf with its value now
 * (`gold 50/50 ✓`), what the next request would carry and what the last one carried, and, when the
 * engine reports them, the running summary of older turns and the memories of earlier
 * conversations. It renders `conversation.explain` from the API as it is, and imports nothing, so
 * a test can render it from fixture data alone.
 */
export interface ExplainNode { kind: string; label: string; holds: boolean; progress?: string; children?: ExplainNode[] }
export interface VarView { name: string; value: number | string; owner: 'game' | 'npc'; range: string; note?: string; told: string[] }
export interface ExplainView {
  /** Absent from an engine older than variables. */
  vars?: VarView[]
  secrets: Array<{ id: string; unlocked: boolean; condition: ExplainNode; next: 'fact' | 'hint' | 'nothing'; lastCarried: boolean | null }>
  lore: Array<{ id: string; available: boolean; condition?: ExplainNode; lastCarried: string[] }>
  actions: Array<{ name: string; offered: boolean; condition?: ExplainNode }>
  next: { facts: string[]; hints: string[]; lore: string[]; actions: string[]; systemTokens: number }
  last: { facts: string[]; lore: string[]; promptTokens: number } | null
  /** The running summary the older turns were folded into (absent: nothing folded yet). */
  summary?: { text: string; coversTurns: number }
  /** Memories of this player's earlier conversations with the NPC (absent: the engine keeps none). */
  memories?: Array<{ text: string; secrets: string[]; carried: boolean }>
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

/** The block with this id, made and placed by `place` the first time. */
function slot(id: string, place: (block: HTMLElement) => void): HTMLElement {
  let block = document.getElementById(id)
  if (!block) {
    block = el('div')
    block.id = id
    place(block)
  }
  return block
}

/** `-5..10` → its bounds; words (`calm | wary`) and open ends have none to draw. */
function bounds(range: string): { min: number; max: number } | undefined {
  const m = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)$/.exec(range)
  return m ? { min: Number(m[1]), max: Number(m[2]) } : undefined
}

/** Values the panel showed last, so a change made by a deed or a gift stands out. */
const shown = new Map<string, number | string>()

function renderVars(vars: readonly VarView[], flash: readonly string[]): HTMLElement[] {
  if (!vars.length) return []
  const ul = el('ul', 'secrets why vars')
  ul.append(
    ...vars.map((v) => {
      const before = shown.get(v.name)
      shown.set(v.name, v.value)
      const moved = before !== undefined && before !== v.value
      const delta = moved && typeof before === 'number' && typeof v.value === 'number' ? ` (${v.value > before ? '+' : ''}${v.value - before})` : ''
      const li = entry(`var${moved || flash.includes(v.name) ? ' flash' : ''}`, `${v.name} = ${v.value}${delta}`, `${bounds(v.range) ? 'bounds' : 'one of'} ${v.range} · owner ${v.owner}`)
      li.dataset.var = v.name
      li.dataset.value = String(v.value)
      const b = bounds(v.range)
      if (b && typeof v.value === 'number') {
        const meter = el('meter', 'var-meter')
        Object.assign(meter, { min: b.min, max: b.max, value: v.value })
        meter.setAttribute('aria-label', `${v.name} ${v.value} of ${b.min}..${b.max}`)
        li.append(meter)
      }
      li.append(v.told.length ? el('p', 'told', `tells the model: ${v.told.join(' ')}`) : el('p', 'told muted', 'no description applies: the model is told nothing of it'))
      if (v.note) li.append(el('p', 'why-note', v.note))
      return li
    }),
  )
  return [el('h4', undefined, 'variables'), ul]
}

function renderRecall(e: ExplainView): HTMLElement[] {
  const parts: HTMLElement[] = []
  if (e.summary) {
    parts.push(el('h4', undefined, `running summary · covers ${e.summary.coversTurns} turn${e.summary.coversTurns === 1 ? '' : 's'}`))
    const p = el('p', 'summary', e.summary.text)
    p.dataset.coversTurns = String(e.summary.coversTurns)
    parts.push(p)
  }
  if (e.memories) {
    parts.push(el('h4', undefined, 'memories · earlier conversations'))
    if (!e.memories.length) parts.push(el('p', 'muted', 'none yet'))
    else {
      const ul = el('ul', 'secrets why memories')
      ul.append(
        ...e.memories.map((m, i) => {
          const needs = m.secrets.length ? `needs ${m.secrets.join(', ')}` : 'needs no secret'
          const li = entry(m.carried ? 'open' : 'locked', `${mark(m.carried)} ${m.carried ? 'carried' : 'held back'}`, needs)
          li.dataset.memory = String(i)
          li.dataset.carried = String(m.carried)
          li.append(el('p', 'memory', m.text))
          return li
        }),
      )
      parts.push(ul)
    }
  }
  return parts
}

/**
 * Replaces the secrets list with condition trees; adds the variables above it, and lore, actions,
 * next and last request, summary and memories below it.
 */
export function renderExplain(e: ExplainView, flash: readonly string[] = []): void {
  const secrets = document.getElementById('bs-secrets')
  if (!secrets) return
  // Above the secrets' heading, so variables read first: they decide much of what follows.
  const vars = slot('bs-vars', (b) => (secrets.previousElementSibling ?? secrets).before(b))
  vars.replaceChildren(...renderVars(e.vars ?? [], flash))
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
  const why = slot('bs-why', (b) => secrets.after(b))
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
  slot('bs-recall', (b) => why.after(b)).replaceChildren(...renderRecall(e))
}
