import { tokenize } from './tokenize.ts'

/** Okapi BM25 over a fixed set of documents (k1 = 1.2, b = 0.75). */
export class Bm25Index {
  readonly #docs: Array<Map<string, number>>
  readonly #lengths: number[]
  readonly #df = new Map<string, number>()
  readonly #avg: number
  readonly #k1 = 1.2
  readonly #b = 0.75

  constructor(texts: readonly string[]) {
    this.#docs = texts.map((t) => {
      const tf = new Map<string, number>()
      for (const term of tokenize(t)) tf.set(term, (tf.get(term) ?? 0) + 1)
      return tf
    })
    this.#lengths = this.#docs.map((d) => [...d.values()].reduce((a, b) => a + b, 0))
    this.#avg = this.#lengths.reduce((a, b) => a + b, 0) / Math.max(1, this.#lengths.length)
    for (const d of this.#docs) for (const term of d.keys()) this.#df.set(term, (this.#df.get(term) ?? 0) + 1)
  }

  /** A score per document for the query, 0 where no term matches. */
  scores(query: string): number[] {
    const n = this.#docs.length
    const terms = [...new Set(tokenize(query))]
    return this.#docs.map((tf, i) => {
      let score = 0
      for (const term of terms) {
        const f = tf.get(term)
        if (!f) continue
        const df = this.#df.get(term)!
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5))
        score += idf * ((f * (this.#k1 + 1)) / (f + this.#k1 * (1 - this.#b + (this.#b * this.#lengths[i]!) / this.#avg)))
      }
      return score
    })
  }
}
