import { existsSync, statSync } from 'node:fs'
import { resolve, relative, isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatIssue, isContentError, type ContentIssue } from '../content/issues.ts'
import { npcJsonSchema } from '../content/json-schema.ts'
import { loadNpcFile, loadNpcs } from '../content/load-dir.ts'
import type { Npc } from '../content/schema.ts'
import { runChat } from './chat.ts'
import { commandArgs, UsageError } from './args.ts'
import { DiskEmbeddingCache } from '../lore/disk-cache.ts'
import { indexLore } from '../lore/retrieve.ts'
import { createGlmClient } from '../glm/client.ts'
import { lintScenarios, runTests } from './test.ts'
import { scenarioJsonSchema } from '../scenarios/schema.ts'

export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream
  env: Record<string, string | undefined>
  cwd: string
}

const USAGE = `Usage: parley <command>

  lint [paths…] [--root DIR]    check NPC files and their scenarios (default: content/npcs); lore
                                files must stay inside the content root (default: the folder above npcs/)
  schema [--scenario]           print the JSON Schema of the NPC file (or of scenario files)
  test [paths…]                 run the scenarios (*.test.yaml) beside NPC files (default: content/npcs)
       [--provider scripted|glm]  offline by default; glm skips (and lists) offline-only expectations
  index [paths…]                embed NPCs' lore with GLM embedding-3 into .parley-cache/
                                (needs GLM_API_KEY; unchanged lore is never embedded twice)
  dev [--port N] [--content DIR] the demo page with every NPC, reloading content/ on save
                                (in the Parley repository: it serves packages/demo-web)
  chat <npc-file-or-id>         talk to an NPC in the terminal
       [--provider glm|scripted] [--dir content/npcs]

Environment: GLM_API_KEY, GLM_BASE_URL, GLM_MODEL, GLM_SERVER (glm|ollama|vllm|openai)`

/** Exit codes: 0 fine, 1 content errors, 2 usage errors. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  const say = (s: string) => io.stdout.write(s + '\n')
  const complain = (s: string) => io.stderr.write(s + '\n')
  try {
    switch (command) {
      case 'lint':
        return await lint(rest, io, say, complain)
      case 'index':
        return await index(rest, io, say, complain)
      case 'schema':
        {
          const { values } = commandArgs('schema', rest, { scenario: { type: 'boolean' } }, 'parley schema [--scenario] > content/npc.schema.json')
          say(JSON.stringify(values.scenario === true ? scenarioJsonSchema() : npcJsonSchema(), null, 2))
        }
        return 0
      case 'test': {
        const { values, positionals } = commandArgs('test', rest, { provider: { type: 'string' } }, 'parley test [paths…] [--provider scripted|glm]')
        const provider = typeof values.provider === 'string' ? values.provider : 'scripted'
        if (provider !== 'glm' && provider !== 'scripted') {
          complain(`--provider must be glm or scripted, not "${provider}"`)
          return 2
        }
        const paths = (positionals.length ? positionals : ['content/npcs']).map((p) => resolve(io.cwd, p))
        const missing = paths.find((p) => !existsSync(p))
        if (missing) {
          complain(`no such file or folder: ${shown(missing, io.cwd)}`)
          return 2
        }
        return await runTests(paths, provider, { env: io.env, say, complain, show: (p) => shown(p, io.cwd), showIssue: (i) => showIssue(i, io.cwd) })
      }
      case 'dev': {
        // The page lives in the demo package, not in the engine: found beside it in the repository.
        const devServer = new URL('../../../demo-web/dev-server.ts', import.meta.url)
        if (!existsSync(fileURLToPath(devServer))) {
          complain('parley dev serves the demo page: run it in the Parley repository (packages/demo-web)')
          return 2
        }
        const { runDev } = (await import(devServer.href)) as { runDev: (args: string[], io: CliIo) => Promise<number> }
        return await runDev(rest, io)
      }
      case 'chat': {
        const { values, positionals } = commandArgs('chat', rest, { provider: { type: 'string' }, dir: { type: 'string' } }, 'parley chat <npc-file-or-id> [--provider glm|scripted] [--dir content/npcs]')
        if (positionals.length !== 1) {
          complain('parley chat needs one NPC: a file path or an id in content/npcs\n\n' + USAGE)
          return 2
        }
        const provider = typeof values.provider === 'string' ? values.provider : undefined
        const dir = typeof values.dir === 'string' ? values.dir : 'content/npcs'
        if (provider !== undefined && provider !== 'glm' && provider !== 'scripted') {
          complain(`--provider must be glm or scripted, not "${provider}"`)
          return 2
        }
        const npc = await findNpc(positionals[0]!, dir, io, complain)
        if (npc === 'broken') return 1
        if (!npc) {
          complain(`no NPC "${positionals[0]}": give a file path, or an id from ${dir} (run "parley lint" to list problems)`)
          return 2
        }
        return await runChat(npc, { ...io, provider })
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        say(USAGE)
        return command === undefined ? 2 : 0
      default:
        complain(`unknown command "${command}"\n\n${USAGE}`)
        return 2
    }
  } catch (error) {
    if (error instanceof UsageError) {
      complain(error.message)
      return 2
    }
    if (isContentError(error)) {
      for (const issue of error.issues) complain(showIssue(issue, io.cwd))
      return 1
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EACCES') {
      complain(`cannot read ${(error as NodeJS.ErrnoException).path}: ${(error as Error).message.split(':')[0]}`)
      return 2
    }
    complain(`parley: ${(error as Error).message}`)
    return 2
  }
}

async function lint(args: string[], io: CliIo, say: (s: string) => void, complain: (s: string) => void): Promise<number> {
  const { values, positionals } = commandArgs('lint', args, { root: { type: 'string' } }, 'parley lint [--root DIR] [paths…]')
  const contentRoot = typeof values.root === 'string' ? resolve(io.cwd, values.root) : undefined
  const paths = (positionals.length ? positionals : ['content/npcs']).map((p) => resolve(io.cwd, p))
  for (const p of contentRoot === undefined ? paths : [contentRoot, ...paths]) {
    if (!existsSync(p)) {
      complain(`no such file or folder: ${shown(p, io.cwd)}`)
      return 2
    }
  }
  const { issues: npcIssues, files, broken } = await loadNpcs(paths, { contentRoot })
  // Scenario files (*.test.yaml) are checked too; `parley test` runs them.
  const issues = [...npcIssues, ...(await lintScenarios(paths))]
  for (const issue of issues) complain(showIssue(issue, io.cwd))
  const problems = issues.length
  if (problems > 0) {
    const ok = files.length - broken.length
    complain(`\n${problems} problem${problems === 1 ? '' : 's'} in ${broken.length} file${broken.length === 1 ? '' : 's'} (${ok} of ${files.length} NPC file${files.length === 1 ? '' : 's'} OK)`)
    return 1
  }
  say(`${files.length} NPC file${files.length === 1 ? '' : 's'} OK`)
  return 0
}

async function index(args: string[], io: CliIo, say: (s: string) => void, complain: (s: string) => void): Promise<number> {
  if (!io.env.GLM_API_KEY) {
    complain('parley index embeds lore with GLM: set GLM_API_KEY (and GLM_BASE_URL for a compatible server); BM25 retrieval needs no index')
    return 2
  }
  const { positionals } = commandArgs('index', args, {}, 'parley index [paths…]')
  const { npcs, issues, broken } = await loadNpcs((positionals.length ? positionals : ['content/npcs']).map((p) => resolve(io.cwd, p)))
  // One broken file does not hold up the others' lore; it is reported, and the exit code says so.
  for (const issue of issues) complain(showIssue(issue, io.cwd))
  if (broken.length) complain(`[left out ${broken.length} NPC file${broken.length === 1 ? '' : 's'} with problems: ${broken.map((f) => shown(f, io.cwd)).join(', ')}; the others are indexed]`)
  const cache = new DiskEmbeddingCache(resolve(io.cwd, '.parley-cache/embeddings'))
  const client = createGlmClient({ apiKey: io.env.GLM_API_KEY, baseUrl: io.env.GLM_BASE_URL })
  for (const npc of npcs.filter((n) => n.lore)) {
    const { chunks, sent } = await indexLore(npc, { client, cache }, (done, total) => say(`  ${npc.id}: embedded ${done}/${total} new chunks`))
    say(`${npc.id}: ${chunks} lore chunks, ${sent} embedded now, ${chunks - sent} from the cache (gated lore waits until it unlocks)`)
  }
  return broken.length ? 1 : 0
}

/**
 * The NPC to chat with, by path or id. Other files' problems never stop it: they are mentioned in
 * one line; when the id is not among the valid NPCs, the broken files' problems are listed.
 */
async function findNpc(spec: string, dir: string, io: CliIo, complain: (s: string) => void): Promise<Npc | 'broken' | undefined> {
  const asPath = resolve(io.cwd, spec)
  if (existsSync(asPath) && !statSync(asPath).isDirectory()) return loadNpcFile(asPath)
  const folder = resolve(io.cwd, dir)
  if (!existsSync(folder)) return undefined
  const { npcs, issues, broken } = await loadNpcs([folder])
  const npc = npcs.find((n) => n.id === spec)
  if (npc) {
    if (broken.length) complain(`[left out ${broken.length} NPC file${broken.length === 1 ? '' : 's'} with problems: ${broken.map((f) => shown(f, io.cwd)).join(', ')} (run "parley lint")]`)
    return npc
  }
  if (!issues.length) return undefined
  complain(`no valid NPC "${spec}" in ${dir}; these files have problems:`)
  for (const issue of issues) complain(showIssue(issue, io.cwd))
  return 'broken'
}

/** One issue as `path:line:col: message`, paths relative to where the command runs. */
function showIssue(issue: ContentIssue, cwd: string): string {
  return formatIssue({ ...issue, path: shown(issue.path, cwd), message: issue.message.replaceAll(`${cwd.replace(/\/$/, '')}/`, '') })
}

function shown(path: string, cwd: string): string {
  if (!isAbsolute(path)) return path
  const rel = relative(cwd, path)
  return rel.startsWith('..') ? path : rel
}
