import { tokenize } from './tokenize.ts'

const K1 = 1.2
const B = 0.75

/** Okapi BM25 over a fixed set of documents (k1 = 1.2, b = 0.75). */
export class Bm25Index {
  readonly #size: number
  /**
   * Each term's weight in each document that holds it, computed once: the documents never change,
   * so a query only adds up the weights of its own terms (retrieval runs on every turn).
   */
  readonly #postings = new Map<string, Array<[doc: number, weight: number]>>()

  constructor(texts: readonly string[]) {
    const docs = texts.map((t) => {
      const tf = new Map<string, number>()
      for (const term of tokenize(t)) tf.set(term, (tf.get(term) ?? 0) + 1)
      return tf
    })
    const lengths = docs.map((d) => [...d.values()].reduce((a, b) => a + b, 0))
    const avg = lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length)
    const df = new Map<string, number>()
    for (const d of docs) for (const term of d.keys()) df.set(term, (df.get(term) ?? 0) + 1)
    const n = docs.length
    this.#size = n
    docs.forEach((tf, i) => {
      for (const [term, f] of tf) {
        const d = df.get(term)!
        const idf = Math.log(1 + (n - d + 0.5) / (d + 0.5))
        const weight = idf * ((f * (K1 + 1)) / (f + K1 * (1 - B + (B * lengths[i]!) / avg)))
        let list = this.#postings.get(term)
        if (!list) this.#postings.set(term, (list = []))
        list.push([i, weight])
      }
    })
  }

  /** A score per document for the query, 0 where no term matches. */
  scores(query: string): number[] {
    const scores = new Array<number>(this.#size).fill(0)
    for (const term of new Set(tokenize(query))) {
      const list = this.#postings.get(term)
      if (list) for (const [doc, weight] of list) scores[doc]! += weight
    }
    return scores
  }
}
