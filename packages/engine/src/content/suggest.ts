/** Levenshtein distance, bounded: we only care whether two short names are close. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = tmp
    }
  }
  return prev[b.length]!
}

/** The closest candidate within a typo's reach, for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  const limit = Math.max(2, Math.floor(word.length / 3))
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance && d <= limit) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates]
  const match = closest(word, list)
  if (match) return `did you mean "${match}"?`
  return list.length > 0 && list.length <= 12 ? `expected one of: ${list.join(', ')}` : undefined
}
