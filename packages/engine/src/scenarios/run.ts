/**
 * Runs scenarios against an NPC: each scenario is a fresh conversation; steps run in order and
 * each step's expectations are checked once it is done. A scenario stops at its first failing
 * step (later steps would only report the same cause). Runs in any runtime: the CLI reads files.
 */
import type { Npc } from '../content/schema.ts'
import { Conversation, createConversation, restoreConversation } from '../conversation/conversation.ts'
import type { ConversationSnapshot } from '../conversation/snapshot.ts'
import type { TurnResult } from '../conversation/results.ts'
import { isParleyError, ParleyError } from '../errors.ts'
import { formatConditionLine } from '../conditions/explain.ts'
import { compareVar, describeComparison } from '../conditions/evaluate.ts'
import type { GlmMessage } from '../glm/types.ts'
import { messageTokens } from '../prompt/tokens.ts'
import type { Provider } from '../providers/types.ts'
import { asList, type ParsedScenarios } from './parse.ts'
import type { Expectations, Step } from './schema.ts'

/** `offline`: the scripted provider, every expectation applies. `model`: a real model answers. */
export type ScenarioMode = 'offline' | 'model'

/** Expectations about what the model chose to say or do: a real model may word or act otherwise. */
export const OFFLINE_ONLY = ['reply', 'did', 'refused'] as const

export interface SentRequest {
  messages: GlmMessage[]
  tools: string[]
  /** Reported by the model's API; otherwise estimated. */
  promptTokens: number
  estimated: boolean
}

export interface ScenarioFailure {
  line: number
  col: number
  step: number
  /** The step in a few words: `say "你好"`, `give gold ×50`. */
  action: string
  expected: string
  happened: string
  /** The requests the step sent; empty when it sent none (then `next` is what the next would carry). */
  sent: SentRequest[]
  next?: GlmMessage[] | undefined
}

export interface SkippedExpectation {
  line: number
  col: number
  key: string
  step: number
}

export interface ScenarioResult {
  name: string
  line: number
  col: number
  steps: number
  failure?: ScenarioFailure | undefined
  skipped: SkippedExpectation[]
  /** The scenario is marked `offline: true` and a model ran: nothing was run. */
  skippedWhole?: boolean | undefined
}

export interface ScenarioRunOptions {
  provider: Provider
  mode?: ScenarioMode
  /** Reads a save file named by `restore: { file }`, relative to the scenario file. */
  readFile?: ((relativePath: string) => string) | undefined
}

export async function runScenarios(parsed: ParsedScenarios, npc: Npc, options: ScenarioRunOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (let s = 0; s < parsed.file.scenarios.length; s++) results.push(await runOne(parsed, npc, s, options))
  return results
}

function describeStep(step: Step): string {
  if (step.say !== undefined) return `say ${JSON.stringify(step.say)}`
  if (step.give !== undefined) return typeof step.give === 'string' ? `give ${step.give}` : `give ${step.give.item} ×${step.give.count}`
  if (step.flag !== undefined) return typeof step.flag === 'string' ? `flag ${step.flag}` : `flag ${step.flag.name} ${step.flag.on ? 'on' : 'off'}`
  if (step.var !== undefined) return `var ${Object.entries(step.var).map(([k, v]) => `${k} ${v}`).join(', ')}`
  if (step.save !== undefined) return `save ${step.save}`
  if (step.restore !== undefined) return typeof step.restore === 'string' ? `restore ${step.restore}` : `restore ${step.restore.file}`
  if (step.end) return 'end'
  return 'check'
}

async function runOne(parsed: ParsedScenarios, npc: Npc, s: number, options: ScenarioRunOptions): Promise<ScenarioResult> {
  const scenario = parsed.file.scenarios[s]!
  const mode = options.mode ?? 'offline'
  const base = parsed.at(['scenarios', s, 'name'])
  const result: ScenarioResult = { name: scenario.name, line: base.line, col: base.col, steps: scenario.steps.length, skipped: [] }
  if (mode === 'model' && scenario.offline) {
    const at = parsed.at(['scenarios', s, 'offline'], true)
    return { ...result, skipped: [{ ...at, key: 'offline: true (the whole scenario)', step: 0 }], skippedWhole: true }
  }
  let sent: SentRequest[] = []
  let refuse = new Set<string>()
  // Every call the engine makes is recorded: the request is what expectations and failures show.
  const provider: Provider = {
    name: options.provider.name,
    async reply(turn, onDelta) {
      // Recorded before the call, so a failed call still shows what was sent.
      const request: SentRequest = { messages: turn.messages, tools: turn.tools.map((t) => t.function.name), promptTokens: turn.messages.reduce((n, m) => n + messageTokens(m.content ?? ''), 0), estimated: true }
      sent.push(request)
      const reply = await options.provider.reply(turn, onDelta)
      if (reply.usage?.prompt_tokens !== undefined) Object.assign(request, { promptTokens: reply.usage.prompt_tokens, estimated: false })
      return reply
    },
  }
  const convoOptions = { provider, actions: { handler: (call: { name: string }) => (refuse.has(call.name) ? { ok: false as const, reason: 'the game refused it (scenario)' } : { ok: true as const }), timeoutMs: 5_000 } }
  let convo: Conversation = createConversation(npc, convoOptions)
  const saves = new Map<string, ConversationSnapshot>()
  try {
    for (let i = 0; i < scenario.steps.length; i++) {
      const step = scenario.steps[i]!
      const path = ['scenarios', s, 'steps', i]
      sent = []
      refuse = new Set(asList(step.refuse))
      let turn: TurnResult | undefined
      let error: unknown
      try {
        if (step.say !== undefined) turn = await convo.say(step.say)
        else if (step.give !== undefined) typeof step.give === 'string' ? convo.give(step.give) : convo.give(step.give.item, step.give.count)
        else if (step.flag !== undefined) typeof step.flag === 'string' ? convo.setFlag(step.flag) : convo.setFlag(step.flag.name, step.flag.on)
        else if (step.var !== undefined) for (const [name, value] of Object.entries(step.var)) convo.setVar(name, value)
        else if (step.save !== undefined) saves.set(step.save, JSON.parse(JSON.stringify(convo.snapshot())))
        else if (step.restore !== undefined) {
          const saved = typeof step.restore === 'string' ? saves.get(step.restore) : readSave(step.restore.file, options)
          const next = restoreConversation(npc, saved, convoOptions)
          convo.stop()
          convo = next
        } else if (step.end) convo.end()
      } catch (e) {
        error = e
      }
      const fail = (key: string[], expected: string, happened: string): ScenarioResult => {
        const at = parsed.at([...path, ...key], true)
        const next = sent.length ? undefined : convo.messages()
        return { ...result, failure: { ...at, step: i + 1, action: describeStep(step), expected, happened, sent, next } }
      }
      const code = error === undefined ? undefined : isParleyError(error) ? error.code : 'error'
      if (error !== undefined && step.expect?.error !== code) {
        return fail(step.expect?.error ? ['expect', 'error'] : [], step.expect?.error ? `the step to fail with ${step.expect.error}` : 'the step to run', `it failed: ${code}: ${(error as Error).message}`)
      }
      if (step.expect?.error !== undefined && error === undefined) return fail(['expect', 'error'], `the step to fail with ${step.expect.error}`, 'it ran without an error')
      const problem = check(step.expect, { convo, turn, sent, mode, skip: (key) => result.skipped.push({ ...parsed.at([...path, 'expect', key], true), key, step: i + 1 }) })
      if (problem) return fail(['expect', problem.key], problem.expected, problem.happened)
    }
    return result
  } finally {
    convo.stop()
  }
}

function readSave(file: string, options: ScenarioRunOptions): unknown {
  if (!options.readFile) throw new ParleyError('invalid_argument', `cannot read save file "${file}" here (no file reader given)`)
  let text: string
  try {
    text = options.readFile(file)
  } catch (error) {
    throw new ParleyError('invalid_argument', `cannot read save file "${file}": ${(error as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new ParleyError('snapshot_invalid', `save file "${file}" is not JSON`)
  }
}

interface Observed {
  convo: Conversation
  turn: TurnResult | undefined
  sent: SentRequest[]
  mode: ScenarioMode
  skip: (key: string) => void
}

type Problem = { key: string; expected: string; happened: string }

const quote = (s: string) => JSON.stringify(s)
const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s)

/** The first expectation that does not hold, in the order they are written in the file. */
function check(e: Expectations | undefined, o: Observed): Problem | undefined {
  if (!e) return undefined
  for (const key of Object.keys(e) as Array<keyof Expectations>) {
    if (key === 'error' || e[key] === undefined) continue
    if (o.mode === 'model' && (OFFLINE_ONLY as readonly string[]).includes(key)) {
      o.skip(key)
      continue
    }
    const problem = checkOne(key, e, o)
    if (problem) return { key, ...problem }
  }
  return undefined
}

function checkOne(key: keyof Expectations, e: Expectations, o: Observed): Omit<Problem, 'key'> | undefined {
  const { convo, turn } = o
  switch (key) {
    case 'unlocked':
    case 'locked': {
      const want = key === 'unlocked'
      const explained = convo.explain().secrets
      for (const id of asList(e[key])) {
        const secret = explained.find((x) => x.id === id)
        if (!secret) return { expected: `secret ${id} ${key}`, happened: `${convo.npc.id} has no secret ${id}` }
        if (secret.unlocked !== want) return { expected: `secret ${id} ${key}`, happened: `${id} is ${secret.unlocked ? 'unlocked' : 'still locked'}: ${formatConditionLine(secret.condition)}` }
      }
      return undefined
    }
    case 'flags': {
      const flags = convo.flags()
      for (const [name, on] of Object.entries(e.flags!)) {
        if (flags.includes(name) !== on) return { expected: `flag ${name} ${on ? 'set' : 'not set'}`, happened: `flags set: ${flags.join(', ') || 'none'}` }
      }
      return undefined
    }
    case 'vars': {
      const now = convo.vars()
      for (const [name, want] of Object.entries(e.vars!)) {
        const value = Object.hasOwn(now, name) ? now[name] : undefined
        const holds = typeof want === 'object' ? compareVar(value, want) : value === want
        const wanted = typeof want === 'object' ? `${name} ${describeComparison(want)}` : `${name} = ${want}`
        if (!holds) return { expected: wanted, happened: `${name} = ${value ?? 'unset'}` }
      }
      return undefined
    }
    case 'state':
      return convo.state === e.state ? undefined : { expected: `state ${e.state}`, happened: `state ${convo.state}` }
    case 'kind':
      if (!turn) return { expected: `a ${e.kind}`, happened: 'no line was said in this step' }
      return turn.kind === e.kind ? undefined : { expected: `a ${e.kind}`, happened: `a ${turn.kind}: ${quote(turn.text)}${turn.error ? ` (${turn.error.code}: ${turn.error.message})` : ''}` }
    case 'did':
    case 'refused': {
      const status = key === 'did' ? 'done' : 'refused'
      const actions = turn?.actions ?? []
      const seen = actions.map((a) => `${a.name} (${a.status})`).join(', ') || 'no action'
      for (const name of asList(e[key])) {
        if (!actions.some((a) => a.name === name && a.status === status)) return { expected: `action ${name} ${key === 'did' ? 'carried out' : 'refused'}`, happened: turn ? seen : 'no line was said in this step' }
      }
      return undefined
    }
    case 'reply': {
      if (!turn) return { expected: 'a reply', happened: 'no line was said in this step' }
      const r = typeof e.reply === 'string' ? { contains: e.reply } : e.reply!
      const got = `${quote(short(turn.text))}${turn.kind !== 'reply' ? ` (${turn.kind})` : ''}`
      for (const t of asList(r.contains)) if (!turn.text.includes(t)) return { expected: `a reply containing ${quote(t)}`, happened: got }
      for (const t of asList(r.not_contains)) if (turn.text.includes(t)) return { expected: `a reply without ${quote(t)}`, happened: got }
      if ('matches' in r && r.matches !== undefined && !new RegExp(r.matches, 'u').test(turn.text)) return { expected: `a reply matching /${r.matches}/`, happened: got }
      return undefined
    }
    case 'request': {
      const requests = o.sent.length ? o.sent.map((x) => x.messages) : [convo.messages()]
      const where = o.sent.length ? `the ${o.sent.length === 1 ? 'request' : `${o.sent.length} requests`} sent in this step` : 'the next request (this step sent none)'
      const texts = requests.map((messages) => messages.map((m) => m.content ?? '').join('\n'))
      for (const t of asList(e.request!.contains)) if (!texts.some((x) => x.includes(t))) return { expected: `${where} to contain ${quote(t)}`, happened: 'it does not' }
      for (const t of asList(e.request!.not_contains)) {
        const k = texts.findIndex((x) => x.includes(t))
        if (k >= 0) return { expected: `${where} never to contain ${quote(t)}`, happened: `request ${k + 1} contains it` }
      }
      return undefined
    }
    case 'prompt_tokens': {
      const max = e.prompt_tokens!.max
      const sizes = o.sent.length ? o.sent.map((x) => ({ n: x.promptTokens, estimated: x.estimated })) : [{ n: convo.messages('').reduce((n, m) => n + messageTokens(m.content ?? ''), 0), estimated: true }]
      const over = sizes.find((x) => x.n > max)
      return over ? { expected: `prompt tokens ≤ ${max}`, happened: `${over.n} prompt tokens${over.estimated ? ' (estimated)' : ' (reported by the model)'}` } : undefined
    }
    default:
      return undefined
  }
}
