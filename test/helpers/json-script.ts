import { spawn } from 'node:child_process'
import { ROOT } from './npcs.ts'

/**
 * Runs a measuring script in its own process (its own heap, `--expose-gc`, so a leak in it is not
 * hidden by the test runner's) and reads the one JSON report it prints on standard output.
 */
export function runJsonScript<T>(script: string, args: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--conditions=@parley/source', '--import', 'tsx', script, ...args], { cwd: ROOT })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', () => {
      try {
        resolve(JSON.parse(out) as T)
      } catch {
        reject(new Error(`${script} printed no report: ${err.slice(0, 800)}`))
      }
    })
  })
}
