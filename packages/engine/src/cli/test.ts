/**
 * `parley test`: runs the scenario files (`*.test.yaml`) beside NPC files. Offline on the scripted
 * provider by default, so CI runs them; `--provider glm` runs the same scenarios against a model and
 * skips (and lists) the expectations that only make sense offline.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { existsSync, readFileSync } from 'node:fs'
import { isContentError, type ContentIssue } from '../content/issues.ts'
import { isScenarioFile, loadNpcFile, loadNpcs } from '../content/load-dir.ts'
import type { Npc } from '../content/schema.ts'
import { glmProvider } from '../providers/glm.ts'
import { scriptedProvider } from '../providers/scripted.ts'
import type { Provider } from '../providers/types.ts'
import { checkAgainstNpc, parseScenarios } from '../scenarios/parse.ts'
import { formatResult } from '../scenarios/report.ts'
import { runScenarios, type SkippedExpectation } from '../scenarios/run.ts'

export interface TestIo {
  env: Record<string, string | undefined>
  say: (s: string) => void
  complain: (s: string) => void
  show: (path: string) => string
  showIssue: (issue: ContentIssue) => string
}

/** Scenario files under folders (recursively), or given directly. */
export async function listScenarioFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) {
      const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
      const children = entries.filter((e) => (e.isDirectory() && !e.name.startsWith('.')) || (e.isFile() && isScenarioFile(e.name))).map((e) => join(p, e.name))
      out.push(...(await listScenarioFiles(children)))
    } else out.push(p)
  }
  return out
}

/** The NPC a scenario file tests: `npc: id` among the NPCs of its folder, else `x.yaml` beside `x.test.yaml`. */
async function npcFor(file: string, id: string | undefined): Promise<Npc> {
  if (id === undefined) {
    const beside = join(dirname(file), basename(file).replace(/\.test\.(ya?ml)$/i, '.$1'))
    if (!existsSync(beside)) throw new Error(`no NPC file ${beside} beside it: name the NPC with "npc: id"`)
    return loadNpcFile(beside)
  }
  const { npcs, issues } = await loadNpcs([dirname(file)])
  const npc = npcs.find((n) => n.id === id)
  if (npc) return npc
  const broken = issues.filter((i) => i.code !== 'id_clash')
  if (broken.length) throw Object.assign(new Error(`no valid NPC "${id}" in ${dirname(file)}`), { issues: broken })
  throw new Error(`no NPC "${id}" in ${dirname(file)}`)
}

/**
 * For `parley lint`: the scenario files under `paths`, checked like NPC files (schema, then names
 * against their NPC) without running them. Files whose NPC is broken are left to the NPC's issues.
 */
export async function lintScenarios(paths: readonly string[]): Promise<ContentIssue[]> {
  const files = (await listScenarioFiles(paths)).filter((f) => isScenarioFile(basename(f)))
  const issues: ContentIssue[] = []
  for (const file of files) {
    try {
      const parsed = parseScenarios(await readFile(file, 'utf8'), file)
      issues.push(...checkAgainstNpc(parsed, await npcFor(file, parsed.file.npc)))
    } catch (error) {
      if (isContentError(error)) issues.push(...error.issues.filter((i) => i.path === file))
      else if (!(error as { issues?: unknown }).issues) issues.push({ path: file, line: 1, col: 1, code: 'unreadable', message: (error as Error).message })
    }
  }
  return issues
}

export async function runTests(paths: readonly string[], provider: 'glm' | 'scripted', io: TestIo): Promise<number> {
  let model: Provider
  if (provider === 'glm') {
    if (!io.env.GLM_API_KEY) {
      io.complain('--provider glm needs GLM_API_KEY (and GLM_BASE_URL for a local or compatible server)')
      return 2
    }
    model = glmProvider({ apiKey: io.env.GLM_API_KEY, baseUrl: io.env.GLM_BASE_URL, model: io.env.GLM_MODEL })
  } else model = scriptedProvider()
  const mode = provider === 'glm' ? 'model' : 'offline'
  const files = await listScenarioFiles(paths)
  if (files.length === 0) {
    io.complain(`no scenario files (*.test.yaml) in ${paths.map(io.show).join(', ')}`)
    return 1
  }
  let passed = 0
  let failed = 0
  let broken = 0
  const skipped: Array<SkippedExpectation & { file: string }> = []
  for (const file of files) {
    const shown = io.show(file)
    let npc: Npc
    let parsed
    try {
      parsed = parseScenarios(await readFile(file, 'utf8'), file)
      npc = await npcFor(file, parsed.file.npc)
      const problems = checkAgainstNpc(parsed, npc)
      if (problems.length) throw Object.assign(new Error('scenario names what the NPC does not have'), { issues: problems })
    } catch (error) {
      broken++
      io.say(`✗ ${shown}: cannot run`)
      const issues = isContentError(error) ? error.issues : ((error as { issues?: ContentIssue[] }).issues ?? [])
      if (issues.length) for (const issue of issues) io.say(`  ${io.showIssue(issue)}`)
      else io.say(`  ${(error as Error).message}`)
      continue
    }
    const readSave = (relativePath: string) => readFileSync(resolve(dirname(file), relativePath), 'utf8')
    const results = await runScenarios(parsed, npc, { provider: model, mode, readFile: readSave })
    const bad = results.filter((r) => r.failure)
    passed += results.filter((r) => !r.failure && !r.skippedWhole).length
    failed += bad.length
    io.say(`${bad.length ? '✗' : '✓'} ${shown} (${npc.id}, ${model.name} provider)`)
    for (const r of results) io.say(formatResult(shown, r))
    for (const r of results) skipped.push(...r.skipped.map((k) => ({ ...k, file: shown })))
  }
  if (skipped.length) {
    io.say(`\nskipped ${skipped.length} offline-only expectation${skipped.length === 1 ? '' : 's'} (a real model words and acts its own way):`)
    for (const k of skipped) io.say(`  ${k.file}:${k.line}:${k.col}: ${k.key}${k.step ? ` (step ${k.step})` : ''}`)
  }
  const summary = `\n${passed} scenario${passed === 1 ? '' : 's'} passed, ${failed} failed${broken ? `, ${broken} file${broken === 1 ? '' : 's'} could not run` : ''}${skipped.length ? `, ${skipped.length} expectations skipped` : ''}`
  io.say(summary)
  return failed || broken ? 1 : 0
}
