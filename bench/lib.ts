import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Bench } from 'tinybench'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

export function progress(message: string) {
  process.stdout.write(`[bench] ${message}\n`)
}

/** The emulator in its own process: its work must not share the measured client's event loop. */
export async function startEmulatorProcess(env: Record<string, string> = {}): Promise<{ url: string; key: string; child: ChildProcess; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/glm-emulator/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', GLM_API_KEY: 'bench-key', EMULATOR_QUIET: '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      const m = /on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)))
  })
  return { url, key: 'bench-key', child, stop: () => child.kill() }
}

export interface Figure {
  name: string
  /** Mean time per operation in ms, one per round. */
  rounds: number[]
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/**
 * Runs each task for `time` ms per round, the tasks interleaved round after round so that a noisy
 * neighbour hits all of them alike. Returns each task's mean per round.
 */
export async function compare(label: string, tasks: Record<string, () => Promise<unknown> | unknown>, options: { rounds?: number; time?: number; warmup?: number; iterations?: number } = {}): Promise<Figure[]> {
  const rounds = options.rounds ?? 5
  const figures: Figure[] = Object.keys(tasks).map((name) => ({ name, rounds: [] }))
  for (const [name, fn] of Object.entries(tasks)) for (let i = 0; i < (options.warmup ?? 20); i++) await fn()
  for (let r = 0; r < rounds; r++) {
    progress(`${label}: round ${r + 1}/${rounds}`)
    for (const f of figures) {
      const bench = new Bench({ time: options.time ?? 400, iterations: options.iterations ?? 10, warmup: false })
      bench.add(f.name, tasks[f.name]!)
      await bench.run()
      const result = bench.tasks[0]!.result as { state: string; error?: Error; latency?: { mean: number } }
      if (result.state === 'errored') throw new Error(`${label} / ${f.name} failed: ${result.error?.message}`)
      f.rounds.push(result.latency!.mean)
    }
  }
  return figures
}

/**
 * For contenders on a shared, noisy machine: every iteration runs each contender once, in a
 * rotating order, so drift (another tenant, CPU frequency) hits all of them alike. Each round
 * reports each contender's median; ratios are then taken round by round.
 */
export async function interleave(label: string, tasks: Record<string, () => Promise<unknown>>, options: { rounds?: number; iterations?: number; warmup?: number } = {}): Promise<Figure[]> {
  const names = Object.keys(tasks)
  const fns = names.map((n) => tasks[n]!)
  const figures: Figure[] = names.map((name) => ({ name, rounds: [] }))
  for (let i = 0; i < (options.warmup ?? 200); i++) for (const fn of fns) await fn()
  const rounds = options.rounds ?? 5
  const iterations = options.iterations ?? 1000
  for (let r = 0; r < rounds; r++) {
    progress(`${label}: round ${r + 1}/${rounds}`)
    const samples = names.map(() => [] as number[])
    for (let i = 0; i < iterations; i++) {
      for (let k = 0; k < fns.length; k++) {
        const j = (i + k) % fns.length
        const t0 = performance.now()
        await fns[j]!()
        samples[j]!.push(performance.now() - t0)
      }
    }
    samples.forEach((xs, j) => figures[j]!.rounds.push(median(xs)))
  }
  return figures
}

export function fmt(ms: number): string {
  if (ms >= 100) return `${ms.toFixed(0)} ms`
  if (ms >= 1) return `${ms.toFixed(2)} ms`
  return `${(ms * 1000).toFixed(1)} µs`
}

/** A markdown table: each figure's median over rounds, its spread, and its ratio to the baseline per round. */
export function table(figures: Figure[], baseline: string): string {
  const base = figures.find((f) => f.name === baseline)!
  const rows = figures.map((f) => {
    const ratios = f.rounds.map((v, i) => v / base.rounds[i]!)
    return `| ${f.name} | ${fmt(median(f.rounds))} | ${fmt(Math.min(...f.rounds))} – ${fmt(Math.max(...f.rounds))} | ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`
  })
  return [`| contender | median | spread over rounds | ratio to ${baseline} |`, '|---|---|---|---|', ...rows].join('\n')
}
