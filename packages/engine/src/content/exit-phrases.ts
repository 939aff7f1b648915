/**
 * When a player's line is one of the NPC's exit phrases. Pure, so the conversation machine and
 * anything else (a scenario runner, the page) agree on what "said the exit phrase" means.
 */
import type { Npc } from './schema.ts'
import { quickLowerNfkc } from './quick-nfkc.ts'

const TRAILING = /[\p{P}~]+$/u

/**
 * The form exit phrases are compared in: width (NFKC: "！" is "!"), case, spaces anywhere and
 * punctuation at the end are ignored, so "See you!", "see you" and "seeyou ." are one phrase and
 * "任务结束", "任务结束！" match "任务结束!". A phrase that is only punctuation keeps it.
 */
export function normalizePhrase(text: string): string {
  return quickFold(text) ?? nfkcFold(text)
}

/** `normalizePhrase` for any text: NFKC, then the regexes. */
export function nfkcFold(text: string): string {
  const folded = text.normalize('NFKC').replace(/\s+/g, '').toLowerCase()
  return folded.replace(TRAILING, '') || folded
}

/** ASCII punctuation (`\p{P}`) and `~`, which `TRAILING` strips from the end. */
const ASCII_TRAILING = new Set([...'!"#%&\'()*,-./:;?@[\\]_{}~'].map((c) => c.charCodeAt(0)))

/**
 * `nfkcFold` for text made only of the characters whose NFKC form is known without ICU
 * (quick-nfkc.ts): most players' lines. ICU's normalizer and the Unicode regexes are a cold path on
 * every line (exit-phrases.test.ts proves the two agree). Undefined for any other text.
 */
function quickFold(text: string): string | undefined {
  const lower = quickLowerNfkc(text)
  if (lower === undefined) return undefined
  // The only white space such text holds is ASCII's, and its only trailing punctuation ASCII's and 、。.
  const folded = lower.replace(/[\t-\r ]+/g, '')
  let end = folded.length
  while (end > 0) {
    const c = folded.charCodeAt(end - 1)
    if (!ASCII_TRAILING.has(c) && c !== 0x3001 && c !== 0x3002) break
    end--
  }
  return end === 0 ? folded : folded.slice(0, end)
}

const cache = new WeakMap<Npc, ReadonlySet<string>>()

export function isExitPhrase(npc: Pick<Npc, 'exit_phrases'>, line: string): boolean {
  let phrases = cache.get(npc as Npc)
  if (!phrases) cache.set(npc as Npc, (phrases = new Set(npc.exit_phrases.map(normalizePhrase))))
  // Long lines are never exit phrases; skip normalising them.
  if (line.length > 200) return false
  const n = normalizePhrase(line)
  return n !== '' && phrases.has(n)
}
