/**
 * A bounded map that forgets the least recently used entry first. Query embeddings live here:
 * every player line is new text, so keeping them all (on disk, as before) grew without end.
 */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>()
  readonly max: number
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`an LRU cache holds at least one entry, got ${max}`)
    this.max = max
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key)
    if (value === undefined) return undefined
    // Map keeps insertion order: re-inserting makes this the newest.
    this.#map.delete(key)
    this.#map.set(key, value)
    return value
  }

  set(key: K, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as K)
  }

  get size(): number {
    return this.#map.size
  }
}
