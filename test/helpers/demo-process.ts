import { spawn, type ChildProcess } from 'node:child_process'
import { ROOT } from './npcs.ts'

/** The game key and signing keys the test servers share, as several servers behind one game do. */
export const TEST_GAME_KEY = 'game-key-for-tests.0123456789abcdef0123456789'
export const TEST_SIGNING_KEYS = 'test1:signing-secret-for-tests-0123456789abcdef'

/** The demo server as its own process (the page is not needed: only /api is used). */
export class DemoProcess {
  url = ''
  /** Everything the server printed on stdout. */
  output = ''
  readonly child: ChildProcess
  readonly ready: Promise<this>

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--conditions=@parley/source', '--import', 'tsx', 'packages/demo-web/server.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', GLM_API_KEY: '', PARLEY_TYPING_MS: '0', PARLEY_RATE_PER_MINUTE: '100000', PARLEY_CREATE_PER_MINUTE: '100000', PARLEY_ADDRESS_CREATE_PER_MINUTE: '100000', PARLEY_GAME_KEY: TEST_GAME_KEY, PARLEY_SIGNING_KEYS: TEST_SIGNING_KEYS, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    this.ready = new Promise((resolve, reject) => {
      this.child.stdout!.on('data', (d) => {
        out += d
        this.output += d
        const m = /Parley demo on (http:\/\/\S+)/.exec(out)
        if (m) {
          this.url = m[1]!
          resolve(this)
        }
      })
      this.child.stderr!.on('data', (d) => (err += d))
      this.child.on('exit', (code) => reject(new Error(`demo server exited (${code}): ${err.slice(0, 500)}`)))
    })
  }

  kill(): void {
    this.child.kill('SIGKILL')
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode) return
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve())
      this.child.kill('SIGTERM')
    })
  }
}

/**
 * Calls the API of one server or another as one player: it keeps the cookie the first server
 * issues, as a browser does (servers sharing PARLEY_SIGNING_KEYS all accept it).
 */
/** A response as the tests read it: status, body as text and (when it is JSON) parsed, headers. */
async function answer(res: Response): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, json, text, headers: res.headers }
}

export function player() {
  let cookie = ''
  const call = async (server: DemoProcess, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${path.startsWith('/demo/') ? '' : '/api'}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(cookie && { cookie }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const set = res.headers.getSetCookie().find((c) => c.startsWith('parley_client='))
    if (set) cookie = set.split(';')[0]!
    return answer(res)
  }
  return Object.assign(call, { cookie: () => cookie })
}

/** Calls the API as the game's server: the game key, optionally acting for a named player. */
export function gameCaller(key = TEST_GAME_KEY) {
  return async (server: DemoProcess, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/api${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    return answer(res)
  }
}
