/** Scenario results as text: a line per scenario, and for a failure everything needed to fix it. */
import type { GlmMessage } from '../glm/types.ts'
import type { ScenarioFailure, ScenarioResult } from './run.ts'

function indentBlock(text: string, indent: string): string {
  return text.split('\n').map((l) => indent + l).join('\n')
}

function formatMessages(messages: readonly GlmMessage[], indent: string): string[] {
  return messages.map((m) => {
    const calls = m.tool_calls?.length ? ` [calls ${m.tool_calls.map((c) => `${c.function.name}(${c.function.arguments})`).join(', ')}]` : ''
    return `${indent}${m.role}:${calls}${m.content ? `\n${indentBlock(m.content, indent + '  ')}` : ''}`
  })
}

/** `file:line:col: step N (say "…")`, then expected, happened, and the messages sent. */
export function formatFailure(path: string, f: ScenarioFailure): string {
  const out = [`  ${path}:${f.line}:${f.col}: step ${f.step} (${f.action})`, `    expected: ${f.expected}`, `    happened: ${f.happened}`]
  if (f.sent.length) {
    f.sent.forEach((r, i) => {
      out.push(`    messages sent${f.sent.length > 1 ? ` (request ${i + 1} of ${f.sent.length})` : ''}, ${r.promptTokens} prompt tokens${r.estimated ? ' (estimated)' : ''}${r.tools.length ? `, tools ${r.tools.join(', ')}` : ''}:`)
      out.push(...formatMessages(r.messages, '      '))
    })
  } else {
    out.push('    messages sent: none in this step; the next request would carry:')
    out.push(...formatMessages(f.next ?? [], '      '))
  }
  return out.join('\n')
}

export function formatResult(path: string, r: ScenarioResult): string {
  if (r.skippedWhole) return `  - ${r.name} (offline only: skipped)`
  if (!r.failure) return `  ✓ ${r.name}`
  return `  ✗ ${r.name}\n${formatFailure(path, r.failure)}`
}
