/**
 * The scripted provider's summaries: deterministic and offline, so tests and the demo can show
 * memory and running summaries without a model. One clause per exchange (what the player said,
 * clipped); over budget, the clauses in the middle go first, so what the player said first (a
 * name, say) and what was said last both stay.
 */
import { clipToTokens, transcriptLines } from '../prompt/summary.ts'
import { estimateTokens } from '../prompt/tokens.ts'
import type { SummaryRequest, SummaryResult } from './types.ts'

const CLAUSE_CHARS = 40
const SEPARATOR = '；'
const GAP = '……'

export function scriptedSummary(request: SummaryRequest): SummaryResult {
  const said = transcriptLines({ ...request, entries: request.entries.filter((e) => e.role === 'user') }).map((l) => clip(`玩家说“${l.replace(/^玩家：/, '')}”`))
  const clauses = [...(request.previous ? request.previous.split(SEPARATOR) : []), ...said]
  const fits = (xs: string[]) => estimateTokens(xs.join(SEPARATOR)) <= request.maxTokens
  // Over budget, the oldest clause after the first goes, one at a time, marked by a single gap.
  let kept = clauses
  while (kept.length > 2 && !fits(kept)) kept = [kept[0]!, GAP, ...kept.slice(1).filter((c) => c !== GAP).slice(1)]
  return { text: clipToTokens(kept.join(SEPARATOR), request.maxTokens) }
}

function clip(clause: string): string {
  const chars = Array.from(clause)
  return chars.length <= CLAUSE_CHARS ? clause : chars.slice(0, CLAUSE_CHARS - 1).join('') + '…”'
}
