/**
 * Reasoning written into `content` as `<think>…</think>`: glm-z1-* do it, and so do Ollama and
 * vLLM without a reasoning parser (glm-api.md §8). The NPC must never say it aloud, so content is
 * split into what is spoken and what is reasoning, also when a tag is cut across two chunks.
 */

const OPEN = '<think>'
const CLOSE = '</think>'

export interface SplitText {
  spoken: string
  reasoning: string
}

/** How many characters at the end of `text` could be the start of `tag` (held back until the next chunk). */
function partialTagAt(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (tag.startsWith(text.slice(text.length - n))) return n
  }
  return 0
}

/**
 * Splits streamed content into spoken text and reasoning. `push` takes each chunk as it arrives
 * and returns what can be told apart so far; `end` flushes what was held back. A `</think>` with
 * no opening tag (templates that open the block in the prompt) turns everything before it into
 * reasoning when the text is split whole (`splitThinkTags`); in a stream the text before it has
 * already gone out, which is why the family table turns such thinking off at the source.
 */
export class ThinkTagFilter {
  #inside = false
  #held = ''
  #started = false
  /** Just after `</think>`: the blank lines that follow belong to neither part. */
  #afterClose = false

  push(chunk: string): SplitText {
    let text = this.#held + chunk
    this.#held = ''
    if (this.#afterClose) {
      text = text.replace(/^\s+/, '')
      if (text === '') return { spoken: '', reasoning: '' }
      this.#afterClose = false
    }
    let spoken = ''
    let reasoning = ''
    // Leading whitespace before a first `<think>` is not speech either.
    if (!this.#started) {
      const trimmed = text.trimStart()
      if (trimmed === '' || (OPEN.startsWith(trimmed) && trimmed.length < OPEN.length)) {
        this.#held = text
        return { spoken, reasoning }
      }
      this.#started = true
      if (trimmed.startsWith(OPEN)) text = trimmed
    }
    for (;;) {
      const tag = this.#inside ? CLOSE : OPEN
      const at = text.indexOf(tag)
      if (at === -1) {
        const keep = partialTagAt(text, tag)
        const out = text.slice(0, text.length - keep)
        this.#held = text.slice(text.length - keep)
        if (this.#inside) reasoning += out
        else spoken += out
        return { spoken, reasoning }
      }
      if (this.#inside) reasoning += text.slice(0, at)
      else spoken += text.slice(0, at)
      text = text.slice(at + tag.length)
      this.#inside = !this.#inside
      if (!this.#inside) {
        text = text.replace(/^\s+/, '')
        if (text === '') {
          this.#afterClose = true
          return { spoken, reasoning }
        }
      }
    }
  }

  end(): SplitText {
    const held = this.#held
    this.#held = ''
    if (this.#inside) return { spoken: '', reasoning: held }
    // Held whitespace or a lone "<thi" at the very end: speech, unless it was only whitespace.
    return { spoken: this.#started || held.trim() !== '' ? held : '', reasoning: '' }
  }
}

/** Whole content (non-streamed replies, or a stream's final text): spoken part and reasoning. */
export function splitThinkTags(content: string): SplitText {
  const closeOnly = content.indexOf(CLOSE)
  if (closeOnly !== -1 && !content.slice(0, closeOnly).includes(OPEN)) {
    // An orphan closing tag: the template opened the block, so everything before it is reasoning.
    const rest = splitThinkTags(content.slice(closeOnly + CLOSE.length).replace(/^\s+/, ''))
    return { spoken: rest.spoken, reasoning: content.slice(0, closeOnly) + rest.reasoning }
  }
  const filter = new ThinkTagFilter()
  const a = filter.push(content)
  const b = filter.end()
  return { spoken: a.spoken + b.spoken, reasoning: a.reasoning + b.reasoning }
}
