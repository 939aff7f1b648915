/**
 * Variables' values: defaults, bounds, the check a game's value must pass, the effects actions
 * apply, and what the model is told of them. Pure functions of the NPC's declarations.
 */
import type { Npc, NpcAction, VarDecl, VarValue } from '../content/schema.ts'

export type Vars = Readonly<Record<string, VarValue>>

export const isNumberVar = (decl: VarDecl): decl is Extract<VarDecl, { min?: number | undefined }> => !('one_of' in decl)

/** Every declared variable at its default: what a new conversation starts with. */
export function defaultVars(npc: Npc): Vars {
  return Object.fromEntries(Object.entries(npc.vars).map(([name, d]) => [name, d.default]))
}

export function clamp(decl: VarDecl, value: number): number {
  if (!isNumberVar(decl)) return value
  return Math.min(decl.max ?? Infinity, Math.max(decl.min ?? -Infinity, value))
}

/** Why `value` cannot be this variable's value, or undefined if it can. */
export function valueProblem(decl: VarDecl, value: unknown): string | undefined {
  if (isNumberVar(decl)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `takes a number, got ${JSON.stringify(value) ?? String(value)}`
    if (decl.min !== undefined && value < decl.min) return `is at least ${decl.min}, got ${value}`
    if (decl.max !== undefined && value > decl.max) return `is at most ${decl.max}, got ${value}`
    return undefined
  }
  if (typeof value !== 'string' || !decl.one_of.includes(value)) return `is one of ${decl.one_of.join(', ')}, got ${JSON.stringify(value) ?? String(value)}`
  return undefined
}

/**
 * The saved values adapted to the declarations as they are now: unknown names dropped, a value of
 * the wrong kind back to its default, a number out of new bounds clamped. Never throws.
 */
export function adaptVars(npc: Npc, saved: Readonly<Record<string, unknown>>): Vars {
  const out: Record<string, VarValue> = {}
  for (const [name, decl] of Object.entries(npc.vars)) {
    const v = Object.hasOwn(saved, name) ? saved[name] : undefined
    if (isNumberVar(decl)) out[name] = typeof v === 'number' && Number.isFinite(v) ? clamp(decl, v) : decl.default
    else out[name] = typeof v === 'string' && decl.one_of.includes(v) ? v : decl.default
  }
  return out
}

type Effect = NonNullable<NpcAction['effect']>

/**
 * The effects' `add` and `set` applied in order, each clamped to its bounds. Only variables the
 * NPC owns change (lint refuses the rest, and this holds for a file that skipped lint too).
 */
export function applyVarEffects(npc: Npc, vars: Vars, effects: readonly Effect[]): Vars {
  // Most turns carry out no action: nothing to apply, and no closure to make.
  if (effects.length === 0) return vars
  let out: Record<string, VarValue> | undefined
  const write = (name: string, value: VarValue) => {
    if ((out ?? vars)[name] === value) return
    out ??= { ...vars }
    out[name] = value
  }
  for (const effect of effects) {
    for (const [name, by] of Object.entries(effect.add ?? {})) {
      const decl = Object.hasOwn(npc.vars, name) ? npc.vars[name]! : undefined
      const now = (out ?? vars)[name]
      if (decl?.owner === 'npc' && isNumberVar(decl) && typeof now === 'number') write(name, clamp(decl, now + by))
    }
    for (const [name, value] of Object.entries(effect.set ?? {})) {
      const decl = Object.hasOwn(npc.vars, name) ? npc.vars[name]! : undefined
      if (decl?.owner !== 'npc') continue
      if (isNumberVar(decl) && typeof value === 'number') write(name, clamp(decl, value))
      else if (!isNumberVar(decl) && typeof value === 'string' && decl.one_of.includes(value)) write(name, value)
    }
  }
  return out ?? vars
}

/** The authored descriptions that hold for the values now, in declaration order: told to the model. */
export function varDescriptions(npc: Npc, vars: Vars | undefined): string[] {
  const out: string[] = []
  for (const [name, decl] of Object.entries(npc.vars)) {
    const v = vars && Object.hasOwn(vars, name) ? vars[name] : decl.default
    if (isNumberVar(decl)) {
      if (typeof v !== 'number') continue
      for (const d of decl.describe) if ((d.gte === undefined || v >= d.gte) && (d.lte === undefined || v <= d.lte)) out.push(d.text)
    } else if (typeof v === 'string' && Object.hasOwn(decl.describe, v)) out.push(decl.describe[v]!)
  }
  return out
}

/**
 * A short, stable fingerprint of the variable declarations (names, kinds, bounds, words, owners),
 * so a save says which version of the file's variables it holds. FNV-1a: no crypto needed here.
 */
export function varsVersion(npc: Npc): string {
  const shape = Object.entries(npc.vars)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, d]) => (isNumberVar(d) ? [name, 'n', d.min ?? null, d.max ?? null, d.default, d.owner] : [name, 'w', d.one_of, d.default, d.owner]))
  const text = JSON.stringify(shape)
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0')
}
