const PER_MESSAGE = 4

function isWide(code: number): boolean {
  return (
    (code >= 0x3000 && code <= 0x9fff) || // CJK punctuation, kana, unified ideographs
    (code >= 0xac00 && code <= 0xd7af) || // Hangul
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xff00 && code <= 0xffef) || // full-width forms
    code >= 0x20000
  )
}

/**
 * A fast, CJK-aware token estimate: GLM's tokenizer spends about one token per Chinese
 * character and about one per four characters of English. It errs high, so a budget holds.
 */
export function estimateTokens(text: string): number {
  let wide = 0
  let narrow = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 0xd800 && code <= 0xdbff) {
      wide++
      i++
    } else if (isWide(code)) wide++
    else narrow++
  }
  return wide + Math.ceil(narrow / 4)
}

export function messageTokens(content: string): number {
  return estimateTokens(content) + PER_MESSAGE
}
