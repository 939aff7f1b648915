import { estimateTokens } from '../prompt/tokens.ts'

export interface ChunkOptions {
  /** Most tokens in a chunk. */
  window: number
  /** Tokens of trailing sentences repeated at the start of the next chunk, so no fact is cut in two. */
  overlap: number
}

// A sentence ends at CJK or Western end punctuation (with any closing quotes), or at a line end.
const SENTENCE = /[^。！？!?；;\n]+?(?:[。！？!?；;]+|\.(?=\s|$)|(?=\n)|$)[”」』’"）)]*\s*/gu

export function splitSentences(paragraph: string): string[] {
  return (paragraph.match(SENTENCE) ?? []).map((s) => s.trim()).filter(Boolean)
}

/** Hard cut for a single sentence longer than the window. */
function splitLong(sentence: string, window: number): string[] {
  const out: string[] = []
  let piece = ''
  for (const ch of sentence) {
    if (estimateTokens(piece + ch) > window && piece) {
      out.push(piece)
      piece = ''
    }
    piece += ch
  }
  if (piece) out.push(piece)
  return out
}

/**
 * Cuts text into overlapping chunks at sentence ends (short paragraphs may share a chunk, the
 * break kept as a newline), never across a Markdown section; each chunk of a section starts with
 * its heading, which helps retrieval.
 */
export function chunkText(text: string, options: ChunkOptions): string[] {
  const chunks: string[] = []
  let heading = ''
  const sections: Array<{ heading: string; sentences: string[] }> = []
  for (const block of text.replace(/\r\n/g, '\n').split(/\n\s*\n/)) {
    const trimmed = block.trim()
    if (!trimmed) continue
    const lines = trimmed.split('\n')
    if (/^#{1,6}\s/.test(lines[0]!)) {
      heading = lines[0]!.replace(/^#+\s*/, '').trim()
      lines.shift()
      if (lines.length === 0) continue
    }
    const sentences = splitSentences(lines.join('\n')).flatMap((s) => (estimateTokens(s) > options.window ? splitLong(s, options.window) : [s]))
    const last = sections.at(-1)
    if (last && last.heading === heading) last.sentences.push('\n', ...sentences)
    else sections.push({ heading, sentences })
  }
  for (const section of sections) {
    const prefix = section.heading ? `${section.heading}\n` : ''
    let current: string[] = []
    let tokens = estimateTokens(prefix)
    const flush = () => {
      const body = current.filter((s) => s !== '\n')
      if (body.length) chunks.push(prefix + joinSentences(current))
    }
    for (const sentence of section.sentences) {
      const cost = sentence === '\n' ? 0 : estimateTokens(sentence)
      if (current.some((s) => s !== '\n') && tokens + cost > options.window) {
        flush()
        // Carry trailing sentences into the next chunk, up to the overlap.
        const carried: string[] = []
        let carriedTokens = 0
        for (let i = current.length - 1; i >= 0; i--) {
          const t = current[i] === '\n' ? 0 : estimateTokens(current[i]!)
          if (carriedTokens + t > options.overlap) break
          carried.unshift(current[i]!)
          carriedTokens += t
        }
        current = carried[0] === '\n' ? carried.slice(1) : carried
        tokens = estimateTokens(prefix) + carriedTokens
      }
      current.push(sentence)
      tokens += cost
    }
    flush()
  }
  return chunks
}

function joinSentences(parts: string[]): string {
  let out = ''
  for (const p of parts) {
    if (p === '\n') out = out.trimEnd() + '\n'
    else out += out && !out.endsWith('\n') && /^[\x21-\x7e]/.test(p) && /[\x21-\x7e]$/.test(out) ? ` ${p}` : p
  }
  return out.trim()
}
