import { describe, expect, it } from 'vitest'
import { parseNpc } from '../content/parse.ts'
import { ContentError } from '../content/issues.ts'
import { scriptedProvider } from '../providers/scripted.ts'
import type { Provider } from '../providers/types.ts'
import { checkAgainstNpc, parseScenarios } from './parse.ts'
import { runScenarios } from './run.ts'

const guard = parseNpc(`id: guard
name: Guard
persona: You guard the gate.
lines: { nudge: Well?, fallback: Eh?, farewell: Go. }
items:
  pass: { name: gate pass }
secrets:
  - id: password
    fact: The password is swordfish.
    unlock: { given: pass }
actions:
  - name: open_gate
    description: Open the gate.
    when: { unlocked: password }
scripted:
  replies:
    - keywords: [open]
      action: { name: open_gate }
      say: There you go.
  default: Move along.
`, 'guard.yaml')

async function run(yaml: string, provider: Provider = scriptedProvider(), mode: 'offline' | 'model' = 'offline') {
  const parsed = parseScenarios(yaml, 'guard.test.yaml')
  expect(checkAgainstNpc(parsed, guard)).toEqual([])
  return runScenarios(parsed, guard, { provider, mode })
}

describe('runScenarios', () => {
  it('catches a locked fact in a request: a leak is a failure, with the request that carried it', async () => {
    const [r] = await run(`scenarios:
  - name: leak check
    steps:
      - give: pass
      - say: hi
        expect: { request: { not_contains: swordfish } }
`)
    expect(r!.failure).toMatchObject({ line: 6, col: 19, step: 2, action: 'say "hi"', expected: 'the request sent in this step never to contain "swordfish"', happened: 'request 1 contains it' })
    expect(r!.failure!.sent[0]!.messages[0]!.content).toContain('The password is swordfish.')
  })

  it('checks prompt tokens against a budget, and says how many there were', async () => {
    const [ok, over] = await run(`scenarios:
  - name: small
    steps:
      - say: hi
        expect: { prompt_tokens: { max: 500 } }
  - name: too small
    steps:
      - say: hi
        expect: { prompt_tokens: { max: 5 } }
`)
    expect(ok!.failure).toBeUndefined()
    expect(over!.failure!.happened).toMatch(/^\d+ prompt tokens \(estimated\)$/)
  })

  it('action carried out or refused, save and restore, end and the error that follows', async () => {
    const results = await run(`scenarios:
  - name: all of it
    steps:
      - say: open up
        expect: { did: [], locked: password }
      - give: pass
      - save: with_pass
      - say: open up
        refuse: open_gate
        expect: { refused: open_gate, reply: Move along }
      - say: open up
        expect: { did: open_gate, reply: There you go. }
      - end: true
        expect: { state: ended }
      - say: hello?
        expect: { error: conversation_ended }
      - restore: with_pass
        expect: { state: awaiting, unlocked: password }
`.replace('did: [], ', ''))
    expect(results[0]!.failure).toBeUndefined()
  })

  it('with a model, offline-only expectations are skipped and listed where they are written', async () => {
    const echo: Provider = { name: 'glm', reply: async (turn) => ({ text: `echo ${turn.playerLine}`, usage: { prompt_tokens: 42, completion_tokens: 2, total_tokens: 44 } }) }
    const [r] = await run(`scenarios:
  - name: model
    steps:
      - say: open up
        expect: { reply: There you go., prompt_tokens: { max: 42 } }
`, echo, 'model')
    expect(r!.failure).toBeUndefined()
    expect(r!.skipped).toEqual([{ line: 5, col: 19, key: 'reply', step: 1 }])
  })

  it('a step doing two things is a content error at the step', () => {
    expect(() => parseScenarios('scenarios:\n  - name: x\n    steps:\n      - { say: hi, give: pass }\n', 'x.test.yaml')).toThrow(ContentError)
    try {
      parseScenarios('scenarios:\n  - name: x\n    steps:\n      - { say: hi, give: pass }\n', 'x.test.yaml')
    } catch (e) {
      expect((e as ContentError).issues.map((i) => `${i.line}:${i.col} ${i.message}`)).toEqual(['4:9 a step does one thing, found say, give'])
    }
  })
})

describe('a scenario file with a YAML trap', () => {
  const problems = (yaml: string) => {
    try {
      parseScenarios(yaml, 'x.test.yaml')
    } catch (e) {
      return (e as ContentError).issues.map((i) => `${i.line}:${i.col} ${i.message} (${i.hint})`)
    }
    return []
  }

  it('says what NPC files say: a tab, and an unquoted ": ", each at its spot with the fix', () => {
    expect(problems('scenarios:\n  - name: x\n    steps:\n\t- say: hi\n')).toEqual(['4:1 a tab indents this line; YAML indents with spaces only (replace the tab with spaces)'])
    expect(problems('scenarios:\n  - name: x\n    steps:\n      - say: note: the gem\n')).toEqual([
      '4:14 this text contains ": ", which YAML reads as the start of a new key: quote this text (write say: "note: the gem")',
    ])
  })
})

describe('restore from a save file', () => {
  it('continues from the file; a save of another NPC fails the step with its code unless expected', async () => {
    const files: Record<string, string> = {
      'ok.json': JSON.stringify({ format: 'parley.conversation', version: 1, npc: 'guard', state: 'awaiting', history: [], items: { pass: 1 }, flags: [], unlocked: [], said: [], fresh: [], turns: 0, failures: 0 }),
      'other.json': JSON.stringify({ format: 'parley.conversation', version: 1, npc: 'smith', state: 'awaiting', history: [], items: {}, flags: [], unlocked: [], said: [], fresh: [], turns: 0, failures: 0 }),
    }
    const parsed = parseScenarios(`scenarios:
  - name: from a file
    steps:
      - restore: { file: ok.json }
        expect: { unlocked: password }
      - restore: { file: other.json }
        expect: { error: snapshot_wrong_npc }
      - expect: { unlocked: password }
  - name: unexpected
    steps:
      - restore: { file: missing.json }
`, 'guard.test.yaml')
    const [ok, bad] = await runScenarios(parsed, guard, { provider: scriptedProvider(), readFile: (f) => files[f] ?? (() => { throw new Error('ENOENT') })() })
    expect(ok!.failure).toBeUndefined()
    expect(bad!.failure).toMatchObject({ line: 11, col: 9, action: 'restore missing.json', expected: 'the step to run', happened: 'it failed: invalid_argument: cannot read save file "missing.json": ENOENT' })
  })
})
