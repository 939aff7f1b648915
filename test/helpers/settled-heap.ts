/**
 * The heap in bytes once garbage is gone, for leak checks in their own process (node --expose-gc).
 * Collections alone are not enough: fetch registers each request's signal with a
 * FinalizationRegistry, and those entries (with their listeners) are dropped only by a task that
 * runs after a collection. Measured without yielding, the last few thousand requests' entries
 * showed as 1–4 MB of noise that came and went between otherwise identical runs.
 */
export async function settledHeapBytes(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc (pnpm bench and the reliability tests do)')
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((r) => setTimeout(r, 20))
  }
  gc()
  return process.memoryUsage().heapUsed
}
