import { spawn } from 'node:child_process'
import { PassThrough } from 'node:stream'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { runCli } from '../../packages/engine/src/cli/run.ts'
import { ROOT } from './npcs.ts'

const TSX = pathToFileURL(createRequire(`${ROOT}package.json`).resolve('tsx')).href

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  /** The command was still running at the deadline and was killed. */
  timedOut: boolean
  ms: number
}

/**
 * Runs the real `parley` command in `cwd`, as a designer would from their content checkout, and
 * kills it at `deadlineMs`: a test of "never hangs" must end either way, and say which.
 */
export interface RunOptions {
  /** Standard input (default: none). */
  input?: string | undefined
  env?: Record<string, string> | undefined
  /** `pnpm -s parley …` exactly as a designer types it (slower), instead of node + tsx on the same entry point. */
  viaPnpm?: boolean | undefined
}

export function runParley(args: string[], cwd: string, deadlineMs = 60_000, options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const [command, argv] = options.viaPnpm ? ['pnpm', ['-s', 'parley', ...args]] : [process.execPath, ['--conditions=@parley/source', '--import', TSX, `${ROOT}packages/engine/src/cli/main.ts`, ...args]]
    const child = spawn(command, argv, { cwd, env: { ...process.env, GLM_API_KEY: '', ...options.env } })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, deadlineMs)
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr, timedOut, ms: Date.now() - started })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** `parley` run in this process (fast, for messages and exit codes), with `input` as standard input. */
export async function cliInProcess(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdin = new PassThrough()
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (d) => (out += d))
  stderr.on('data', (d) => (err += d))
  stdin.end(input)
  const code = await runCli(args, { stdin, stdout, stderr, env: {}, cwd: ROOT })
  return { code, stdout: out, stderr: err }
}
