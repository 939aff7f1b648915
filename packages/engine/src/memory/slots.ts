/**
 * A cap on concurrent summary calls with a bounded wait list, shared by every record a keeper
 * writes: an idle sweep that lets sixty conversations go at once starts a few model calls and
 * queues the rest, and past the queue's bound a call is refused at once (its summary is retried
 * later), so neither the model nor this process's memory is flooded.
 */
/** What `run` resolves to when the wait list was full and the work never ran. */
export const NO_SLOT: unique symbol = Symbol('no summary slot')

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

  /** Runs `work` in a slot; resolves `NO_SLOT` without running it when the wait list is full. */
  async run<T>(work: () => Promise<T>): Promise<T | typeof NO_SLOT> {
    if (this.#running >= this.#max) {
      if (this.#waiting.length >= this.#queueMax) return NO_SLOT
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
