import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { stringify } from 'yaml'
import { parseNpc, type Condition } from '@parley/engine'
import { evaluate, isContentError, type GameState } from '@parley/engine/unstable'
import { NPC_DIR, ROOT } from '../helpers/npcs.ts'

const informantText = readFileSync(`${NPC_DIR}/informant.yaml`, 'utf8')
const harborText = readFileSync(`${NPC_DIR}/harbor-master.yaml`, 'utf8')

/** The only two outcomes allowed: a valid NPC, or a ContentError whose issues all have positions. */
function outcome(text: string): 'npc' | 'content-error' {
  try {
    const npc = parseNpc(text, 'fuzz.yaml')
    expect(typeof npc.id).toBe('string')
    return 'npc'
  } catch (error) {
    if (!isContentError(error)) throw new Error(`crash on input ${JSON.stringify(text.slice(0, 200))}: ${String(error)}`)
    expect(error.issues.length).toBeGreaterThan(0)
    for (const issue of error.issues) {
      expect(issue.line).toBeGreaterThanOrEqual(1)
      expect(issue.col).toBeGreaterThanOrEqual(1)
      expect(issue.message.length).toBeGreaterThan(0)
    }
    return 'content-error'
  }
}

const mutation = (base: string) =>
  fc.oneof(
    fc.record({ at: fc.nat(base.length), len: fc.nat(40) }).map(({ at, len }) => base.slice(0, at) + base.slice(at + len)),
    fc.record({ at: fc.nat(base.length), junk: fc.string({ unit: 'binary', maxLength: 20 }) }).map(({ at, junk }) => base.slice(0, at) + junk + base.slice(at)),
    fc.record({ at: fc.nat(base.length), junk: fc.constantFrom(':', '- ', '{', '}', '[', ']', '&a ', '*a', '!!str ', '"', "'", '\t', '\n  ', '#', '|', '>', '? ', '%YAML 1.2\n---\n') }).map(({ at, junk }) => base.slice(0, at) + junk + base.slice(at)),
    fc.tuple(fc.nat(200), fc.nat(200)).map(([a, b]) => {
      const lines = base.split('\n')
      const i = a % lines.length
      const j = b % lines.length
      ;[lines[i], lines[j]] = [lines[j]!, lines[i]!]
      return lines.join('\n')
    }),
    fc.nat(200).map((a) => {
      const lines = base.split('\n')
      const i = a % lines.length
      lines.splice(i, 0, lines[i]!)
      return lines.join('\n')
    }),
  )

describe('the YAML loader under fuzzing', () => {
  it('random text: a ContentError or an NPC, never a crash', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (text) => void outcome(text)), { numRuns: 500 })
  })

  // 1,500 parses: generous deadlines, as the machine running them may be busy.
  it('mutated NPC files: a ContentError or an NPC, never a crash', { timeout: 120_000 }, () => {
    fc.assert(fc.property(fc.oneof(mutation(informantText), mutation(harborText)), (text) => void outcome(text)), { numRuns: 1500 })
  })

  it('random YAML documents of any shape: a ContentError or an NPC', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 6 }), (value) => void outcome(stringify(value, { aliasDuplicateObjects: false }) ?? '')), { numRuns: 500 })
  })

  it('random values in the right places still give positioned errors, never a crash', { timeout: 120_000 }, () => {
    const field = fc.constantFrom('id', 'name', 'persona', 'greeting', 'lines', 'model', 'items', 'secrets', 'flags', 'examples', 'history', 'max_failures', 'exit_phrases', 'scripted')
    fc.assert(
      fc.property(field, fc.anything({ maxDepth: 4 }), (key, value) => {
        const doc = parseYamlObject(informantText)
        doc[key] = value
        outcome(stringify(doc))
      }),
      { numRuns: 500 },
    )
  })
})

function parseYamlObject(text: string): Record<string, unknown> {
  // Through the engine's own parser so the file is known-good before it is mutated.
  const npc = parseNpc(text, 'x.yaml') as unknown as Record<string, unknown>
  const { source: _s, ...rest } = npc
  return structuredClone(rest)
}

/** Runs the parser in a separate process with at most 128 MB of heap and 10 s. */
function parseBounded(text: string): Promise<{ ok?: boolean; codes?: string[]; crashed?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=128', '--conditions=@parley/source', '--import', 'tsx', 'test/reliability/parse-child.ts'], { cwd: ROOT })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error('the parser did not finish within 10 s'))
    }, 10_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`the parser process died (exit ${code}): ${err.slice(0, 300)}`))
      else resolve(JSON.parse(out))
    })
    child.stdin.end(text)
  })
}

describe('resource attacks, under a 128 MB heap and a 10 s deadline', () => {
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n')
  it.each([
    ['a billion-laughs alias bomb', laughs, 'too_complex'],
    ['aliases nested in a block map', 'x: &x {a: 1}\n' + Array.from({ length: 300 }, (_, i) => `k${i}: [*x, *x, *x]`).join('\n'), 'too_complex'],
    ['100,000 nested brackets', '['.repeat(100_000), 'too_complex'],
    ['500 nested block maps', Array.from({ length: 500 }, (_, i) => ' '.repeat(i) + 'a:').join('\n') + ' 1', 'too_complex'],
    ['a 10 MB file', `persona: ${'x'.repeat(10 * 1024 * 1024)}`, 'too_large'],
    ['binary junk', String.fromCharCode(...Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), 'not_text'],
  ])('%s is refused with a content error', async (_name, text, code) => {
    const result = await parseBounded(text)
    expect(result.crashed).toBeUndefined()
    expect(result.ok).toBe(false)
    expect(result.codes).toContain(code)
  }, 30_000)
})

const items = ['red_gem', 'gold', 'permit']
const conditionArb: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...items).map((i): Condition => ({ given: i })),
    fc.record({ item: fc.constantFrom(...items), count: fc.integer({ min: 1, max: 60 }) }).map((g): Condition => ({ given: g })),
    fc.constantFrom('guild', 'met_boss').map((f): Condition => ({ flag: f })),
    fc.constantFrom('芝麻开门', 'open sesame', '^hi$').map((m): Condition => ({ said: { matches: m } })),
    fc.record({ gte: fc.nat(10) }).map((t): Condition => ({ turns: t })),
    fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((all): Condition => ({ all })),
    fc.array(tie('c'), { minLength: 1, maxLength: 3 }).map((any): Condition => ({ any })),
    tie('c').map((not): Condition => ({ not })),
  ),
})).c
const stateArb: fc.Arbitrary<GameState> = fc.record({
  items: fc.dictionary(fc.constantFrom(...items), fc.nat(100)),
  flags: fc.subarray(['guild', 'met_boss']),
  turns: fc.nat(20),
  currentLine: fc.option(fc.constantFrom('芝麻开门！', 'OPEN SESAME', 'hi', 'hello'), { nil: undefined }),
})

describe('the condition evaluator under fuzzing', () => {
  it('always answers true or false, deterministically', () => {
    fc.assert(fc.property(conditionArb, stateArb, (c, s) => {
      const first = evaluate(c, s)
      expect(typeof first).toBe('boolean')
      expect(evaluate(c, s)).toBe(first)
    }), { numRuns: 2000 })
  })

  it('obeys logic: double negation, De Morgan, singletons', () => {
    fc.assert(fc.property(conditionArb, conditionArb, stateArb, (a, b, s) => {
      expect(evaluate({ not: { not: a } }, s)).toBe(evaluate(a, s))
      expect(evaluate({ not: { all: [a, b] } }, s)).toBe(evaluate({ any: [{ not: a }, { not: b }] }, s))
      expect(evaluate({ all: [a] }, s)).toBe(evaluate(a, s))
      expect(evaluate({ any: [a] }, s)).toBe(evaluate(a, s))
    }), { numRuns: 2000 })
  })

  it('never locks again by giving more: conditions without `not` are monotonic in gifts', () => {
    const positive = conditionArb.filter((c) => !JSON.stringify(c).includes('"not"'))
    fc.assert(fc.property(positive, stateArb, fc.constantFrom(...items), fc.integer({ min: 1, max: 50 }), (c, s, item, more) => {
      const richer = { ...s, items: { ...s.items, [item]: (s.items[item] ?? 0) + more } }
      if (evaluate(c, s)) expect(evaluate(c, richer)).toBe(true)
    }), { numRuns: 2000 })
  })
})
