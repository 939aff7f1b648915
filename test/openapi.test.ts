import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validate, compileErrors } from '@readme/openapi-parser'
import openapiTS, { astToString } from 'openapi-typescript'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { scriptedProvider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { openApiDocument, schemas } from '@parley/engine/http'
import { allNpcs } from './helpers/npcs.ts'

const ROOT = new URL('../', import.meta.url).pathname
const committed = () => JSON.parse(readFileSync(`${ROOT}packages/engine/openapi.json`, 'utf8'))
const doc = () => openApiDocument('/api')
type Operation = { operationId: string; security: Record<string, string[]>[]; responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }> }
const operations = () => Object.entries(doc().paths!).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op: op as Operation })))

describe('the OpenAPI document', () => {
  it('packages/engine/openapi.json is the one the routes generate (run `pnpm openapi` after changing a route)', () => {
    expect(committed()).toEqual(doc())
  })

  it('is served at /api/openapi.json, to anyone, as the committed file says', async () => {
    const handler = createDialogueHandler({ npcs: await allNpcs(), provider: scriptedProvider() })
    const res = await handler(new Request('http://demo.test/api/openapi.json'))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(committed())
    await handler.close()
  })

  it('is valid OpenAPI 3.1 to a real validator', async () => {
    const result = await validate(structuredClone(doc()) as never)
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid')
    expect(doc().openapi).toBe('3.1.0')
  })

  it('names both callers as security schemes and every route one or both', () => {
    const schemes = (doc() as unknown as { components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> } }).components.securitySchemes
    expect(schemes.gameKey).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(schemes.playerCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'parley_client' })
    expect(schemes.playerToken).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-parley-client' })
    for (const { op } of operations()) expect(op.security.length, op.operationId).toBeGreaterThan(0)
    const gameOnly = operations().filter(({ op }) => op.security.length === 1).map(({ op }) => op.operationId).sort()
    expect(gameOnly).toEqual(['endConversation', 'forgetPlayer', 'forgetPlayerWithNpc', 'giveItem', 'inspectConversation', 'issuePlayerToken', 'setFlag', 'setVar', 'takeSnapshot'])
  })

  it('lists every error code the handler can answer with, each under a Problem body', () => {
    const described = new Set<string>()
    for (const { op } of operations()) {
      for (const [status, r] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue
        expect(r.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Problem' })
        for (const m of r.description.matchAll(/`([a-z_]+)`/g)) described.add(m[1]!)
      }
    }
    // method_not_allowed answers paths with no such method, so no operation lists it
    expect([...schemas.ERROR_CODES].filter((c) => c !== 'method_not_allowed' && !described.has(c))).toEqual([])
  })

  it('describes the stream as text/event-stream with each event payload schema', () => {
    const send = operations().find(({ op }) => op.operationId === 'sendMessage')!.op
    const stream = send.responses['200']!.content!['text/event-stream']!.schema as { 'x-parley-events': Record<string, { $ref: string }> }
    expect(stream['x-parley-events']).toMatchObject({ delta: { $ref: '#/components/schemas/DeltaEvent' }, done: { $ref: '#/components/schemas/DoneEvent' }, error: { $ref: '#/components/schemas/ErrorEvent' } })
    const components = (doc() as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas
    for (const name of ['DeltaEvent', 'DoneEvent', 'ErrorEvent', 'StreamEvent']) expect(components[name], name).toBeDefined()
  })

  it('generates a typed client with openapi-typescript that compiles, and refuses a wrong body at compile time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-openapi-'))
    try {
      writeFileSync(join(dir, 'api.ts'), astToString(await openapiTS(structuredClone(doc()) as never)))
      writeFileSync(
        join(dir, 'use.ts'),
        `import type { components, paths } from './api.ts'
type Send = paths['/api/conversations/{id}/messages']['post']
type Body = Send['requestBody']['content']['application/json']
type Turn = Send['responses'][200]['content']['application/json']
type Problem = components['schemas']['Problem']
export const body: Body = { text: 'Do you know where the boss hides?' }
export function line(t: Turn): string { return t.kind === 'reply' ? t.text : t.state }
export function code(p: Problem): string { return p.error.code }
export const gift: paths['/api/conversations/{id}/items']['post']['requestBody']['content']['application/json'] = { item: 'red_gem', count: 1, max: 1 }
// @ts-expect-error a message carries only its text
export const wrong: Body = { text: 'hi', npc: 'informant' }
// @ts-expect-error the state is one of the machine's states
export const state: components['schemas']['ConversationState'] = 'sleeping'
`,
      )
      const program = ts.createProgram([join(dir, 'use.ts')], { strict: true, noEmit: true, allowImportingTsExtensions: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true })
      const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      expect(problems).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
