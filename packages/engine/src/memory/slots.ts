/**
 * A cap on concurrent summary calls with a bounded wait list, shared by every record a keeper
 * writes: an idle sweep that lets sixty conversations go at once starts a few model calls and
 * queues the rest, and past the queue's bound a call is refused at once (its summary is retried
 * later), so neither the model nor this process's memory is flooded.
 */
export class SummarySlots {
  readonly #max: number
  readonly #queueMax: number
  #running = 0
  readonly #waiting: Array<() => void> = []

  constructor(max: number, queueMax: number) {
    this.#max = max
    this.#queueMax = queueMax
  }

  /** Calls in flight now. */
  get running(): number {
    return this.#running
  }

  /** Runs `work` in a slot; resolves `undefined` without running it when the wait list is full. */
  async run<T>(work: () => Promise<T>): Promise<T | undefined> {
    if (this.#running >= this.#max) {
      if (this.#waiting.length >= this.#queueMax) return undefined
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    } else this.#running++
    try {
      return await work()
    } finally {
      // The slot passes straight to the next waiter, so `running` never exceeds the cap.
      const next = this.#waiting.shift()
      if (next) next()
      else this.#running--
    }
  }
}
