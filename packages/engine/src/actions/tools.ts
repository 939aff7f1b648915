/** Actions as GLM tools: the JSON Schema of each offered action, and the check of a call's name and arguments. */
import { z } from 'zod'
import type { Npc, NpcAction } from '../content/schema.ts'
import { evaluate } from '../conditions/evaluate.ts'
import type { GameState } from '../conditions/types.ts'

/** A GLM `tools` entry (function type) for an action, its parameters as JSON Schema. */
export function toolFor(action: NpcAction) {
  const properties: Record<string, unknown> = {}
  const required: string[] = []
  for (const [name, p] of Object.entries(action.parameters)) {
    properties[name] = { type: p.type, ...(p.description && { description: p.description }), ...(p.enum && { enum: p.enum }) }
    if (p.required) required.push(name)
  }
  return { type: 'function' as const, function: { name: action.name, description: action.description, parameters: { type: 'object', properties, required } } }
}

export type GlmTool = ReturnType<typeof toolFor>

const tools = new WeakMap<NpcAction, GlmTool>()

/**
 * `toolFor`, built once per action and frozen: every request that offers the action carries the
 * same object (a turn otherwise rebuilt each offered tool).
 */
export function toolOf(action: NpcAction): GlmTool {
  let tool = tools.get(action)
  if (!tool) tools.set(action, (tool = deepFreeze(toolFor(action))))
  return tool
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/** The actions offered now: an action whose `when` does not hold is not in the request at all. */
export function offeredActions(npc: Npc, state: GameState): NpcAction[] {
  return npc.actions.filter((a) => !a.when || evaluate(a.when, state))
}

const argumentSchemas = new WeakMap<NpcAction, z.ZodType>()

function argumentSchema(action: NpcAction): z.ZodType {
  let schema = argumentSchemas.get(action)
  if (!schema) {
    const shape: Record<string, z.ZodType> = {}
    for (const [name, p] of Object.entries(action.parameters)) {
      let field: z.ZodType = p.type === 'string' ? z.string() : p.type === 'boolean' ? z.boolean() : p.type === 'integer' ? z.int() : z.number()
      if (p.enum) field = field.refine((v) => p.enum!.includes(v as string | number), { message: `must be one of ${p.enum.join(', ')}` })
      shape[name] = p.required ? field : field.optional()
    }
    schema = z.strictObject(shape)
    argumentSchemas.set(action, schema)
  }
  return schema
}

export type ParsedCall =
  | { ok: true; action: NpcAction; args: Record<string, unknown> }
  | { ok: false; reason: string }

/**
 * Checks a tool call from the model: a known action that is offered now, with arguments that are
 * JSON and fit its parameters. The model's text is never trusted further than this.
 */
export function parseCall(offered: readonly NpcAction[], name: string, argumentsText: string): ParsedCall {
  const action = offered.find((a) => a.name === name)
  if (!action) return { ok: false, reason: `unknown action "${name}"; available: ${offered.map((a) => a.name).join(', ') || 'none'}` }
  let raw: unknown
  try {
    raw = argumentsText.trim() === '' ? {} : JSON.parse(argumentsText)
  } catch {
    return { ok: false, reason: `the arguments of "${name}" are not JSON` }
  }
  const parsed = argumentSchema(action).safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    return { ok: false, reason: `invalid arguments for "${name}": ${issue.path.join('.') || 'arguments'}: ${issue.message}` }
  }
  return { ok: true, action, args: parsed.data as Record<string, unknown> }
}
