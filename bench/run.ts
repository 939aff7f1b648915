/**
 * `pnpm bench`: every figure against a baseline measured in the same run, rounds interleaved,
 * on the GLM emulator over loopback. Writes bench/RESULTS.md.
 */
import { cpus, totalmem, platform, release } from 'node:os'
import { writeFileSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { progress } from './lib.ts'
import { clientSection } from './sections/client.ts'
import { turnSection } from './sections/turn.ts'
import { streamSection } from './sections/stream.ts'
import { cpuSection } from './sections/cpu.ts'
import { tokenSection } from './sections/tokens.ts'
import { summarySection } from './sections/summary.ts'
import { scaleSection } from './sections/scale.ts'
import { contentSection } from './sections/content.ts'
import { serverSection } from './sections/server.ts'
import { routerSection } from './sections/router.ts'
import { loreSection } from './sections/lore.ts'
import { storeSection } from './sections/store.ts'
import { patternSection } from './sections/patterns.ts'
import { firstDeltaSection } from './sections/first-delta.ts'
import { ROOT } from './lib.ts'

const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const sections = [
  ['client', clientSection],
  ['turn', turnSection],
  ['stream', streamSection],
  ['cpu', cpuSection],
  ['tokens', tokenSection],
  ['summary', summarySection],
  ['scale', scaleSection],
  ['content', contentSection],
  ['server', serverSection],
  ['router', routerSection],
  ['lore', loreSection],
  ['store', storeSection],
  ['patterns', patternSection],
  ['firstdelta', firstDeltaSection],
] as const

const started = Date.now()
const parts: string[] = []
const readings: string[] = []
for (const [name, run] of sections) {
  if (only && !only.includes(name)) continue
  progress(`── ${name} ──`)
  const out = await run({ quick })
  parts.push(out.markdown)
  if (out.reading) readings.push(out.reading)
}

const cpu = cpus()[0]?.model ?? 'unknown CPU'
const header = `# Benchmark results

- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC
- Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}
- Node ${process.version}; every figure from this one \`pnpm bench\` run${quick ? ' (--quick)' : ''}, ${((Date.now() - started) / 1000).toFixed(0)} s
- Method: contenders run interleaved in rounds; "spread" is the lowest and highest round; ratios are taken per round against the baseline measured in the same round, and their median reported. The GLM emulator runs in a separate process on 127.0.0.1.

## Reading

${readings.map((r) => `- ${r}`).join('\n')}
`
const notesPath = join(ROOT, 'bench/NOTES.md')
const notes = existsSync(notesPath) ? `\n${readFileSync(notesPath, 'utf8')}` : ''
const target = join(ROOT, only || quick ? 'bench/RESULTS.partial.md' : 'bench/RESULTS.md')
writeFileSync(target, `${header}\n${parts.join('\n\n')}\n${notes}`)
progress(`wrote ${target}`)
process.stdout.write(`\n${header}\n${parts.join('\n\n')}\n`)
process.exit(0)
