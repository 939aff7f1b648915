/** The explanation as text, for `/why` in `parley chat` and for logs. */
import { formatConditionLine, formatConditionTree } from '../conditions/explain.ts'
import type { Explanation } from './explain.ts'

const mark = (on: boolean) => (on ? '✓' : '✗')
const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none')

export function formatExplanation(e: Explanation): string {
  const out: string[] = []
  const given = Object.entries(e.items).map(([k, n]) => `${k}×${n}`)
  out.push(`why · ${e.npc} · turns ${e.turns} · given ${list(given)} · flags ${list(e.flags)}`)
  if (e.vars.length) out.push('vars')
  for (const v of e.vars) out.push(`  ${v.name} = ${v.value} (${v.range}, owner ${v.owner})${v.told.length ? ` · tells the model: ${v.told.join(' ')}` : ''}`)
  if (e.secrets.length) out.push('secrets')
  for (const s of e.secrets) {
    const carries = s.next === 'fact' ? 'next request carries its fact' : s.next === 'hint' ? 'next request carries only its hint' : 'next request carries nothing of it'
    out.push(`  ${mark(s.unlocked)} ${s.id}: ${s.unlocked ? 'unlocked' : 'locked'} · ${carries}`)
    out.push(...formatConditionTree(s.condition, '      '))
  }
  if (e.lore.length) out.push('lore')
  for (const l of e.lore) {
    const gate = l.condition ? `gated: ${formatConditionLine(l.condition)}` : 'always available'
    out.push(`  ${mark(l.available)} ${l.id}: ${gate}${l.lastCarried.length ? ` · last request carried ${l.lastCarried.join(', ')}` : ''}`)
  }
  if (e.actions.length) out.push('actions')
  for (const a of e.actions) out.push(`  ${mark(a.offered)} ${a.name}: ${a.condition ? `${a.offered ? 'offered' : 'not offered'}: ${formatConditionLine(a.condition)}` : 'always offered'}`)
  if (e.summary) out.push(`summary of the first ${e.summary.coversTurns} exchanges (sent in the system message)\n  ${e.summary.text}`)
  if (e.memories?.length) out.push('memories')
  for (const m of e.memories ?? []) out.push(`  ${mark(m.carried)} ${m.carried ? m.text : 'held back'}${m.secrets.length ? ` · written with ${m.secrets.join(', ')} unlocked` : ''}`)
  out.push(`next request: facts ${list(e.next.facts)} · hints ${list(e.next.hints)} · lore from ${list(e.next.lore)} · tools ${list(e.next.actions)} · system message ~${e.next.systemTokens} tokens`)
  out.push(e.last ? `last request: facts ${list(e.last.facts)} · lore ${list(e.last.lore)} · ~${e.last.promptTokens} prompt tokens` : 'last request: none yet')
  return out.join('\n')
}
