/** How much an NPC remembers of a player, in the engine's token estimate, and how hard it tries to write it. */
export interface MemoryLimits {
  /** Longest memory of one conversation (and of merged ones). Default 120. */
  memoryTokens: number
  /** Most memories kept per player and NPC; past it the oldest are merged into one, leaving half of it. Default 6. */
  maxMemories: number
  /** The most of the system message memories may take; the newest that fit are carried. Default 400. */
  promptTokens: number
  /** The newest whole exchanges of a finished conversation kept for its summary. Default 4000. */
  transcriptTokens: number
  /** Finished conversations waiting for a summary, per record; past it the oldest is written without the model. Default 4. */
  maxPending: number
  /** Summary attempts per conversation before the engine writes the memory itself. Default 3. */
  maxAttempts: number
  /** Wait before the first retry, doubled after each failure. Default 60 s. */
  retryDelayMs: number
  /** A summary call slower than this is abandoned (and retried later). Default 30 s. */
  summaryTimeoutMs: number
  /** Summary calls in flight at once, across every record the keeper writes. Default 4. */
  summaryConcurrency: number
  /** Summary calls waiting for a slot; past it a call is not made and its summary is retried later. Default 256. */
  summaryQueue: number
}

export const DEFAULT_MEMORY_LIMITS: MemoryLimits = {
  memoryTokens: 120,
  maxMemories: 6,
  promptTokens: 400,
  transcriptTokens: 4000,
  maxPending: 4,
  maxAttempts: 3,
  retryDelayMs: 60_000,
  summaryTimeoutMs: 30_000,
  summaryConcurrency: 4,
  summaryQueue: 256,
}

export function memoryLimits(partial: Partial<MemoryLimits> = {}): MemoryLimits {
  const out = { ...DEFAULT_MEMORY_LIMITS }
  // Known names only: whatever else the object holds (`__proto__` included) is not a limit.
  for (const k of Object.keys(DEFAULT_MEMORY_LIMITS) as Array<keyof MemoryLimits>) {
    const v = Object.hasOwn(partial, k) ? partial[k] : undefined
    if (v === undefined) continue
    if (!Number.isFinite(v) || v < (k === 'retryDelayMs' ? 0 : 1)) throw new RangeError(`memory limit ${k} must be a positive number, got ${v}`)
    out[k] = v
  }
  return out
}
