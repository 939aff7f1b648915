import { describe, expect, it } from 'vitest'
import { runJsonScript } from '../helpers/json-script.ts'

const soak = (args: string[]) => runJsonScript<{ turns: number; failed: number; restored: number; inconsistent: number; heapGrowthMb: number }>('test/reliability/soak.ts', ['--json', ...args])

describe('soak (short form; `pnpm soak` runs the full one)', () => {
  it('thousands of turns with random faults: every history consistent, memory back to baseline', async () => {
    const r = await soak(['--turns', '3000', '--conversations', '60'])
    expect(r.inconsistent).toBe(0)
    expect(r.failed).toBeGreaterThan(0)
    expect(r.failed).toBeLessThan(r.turns)
    expect(r.restored).toBeGreaterThan(0)
    // Two more soaks of 3,000 turns each leave the heap where the first left it (seen: within
    // ±0.3 MB once finalizers have run between collections); a leak of 0.5 KB a turn would add 3 MB.
    expect(r.heapGrowthMb).toBeLessThan(3)
  }, 180_000)
})
