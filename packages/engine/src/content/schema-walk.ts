import type { z } from 'zod'

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; element?: z.ZodType; valueType?: z.ZodType; options?: z.ZodType[]; in?: z.ZodType }

function def(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  const d = def(schema)
  if (d.innerType) return unwrap(d.innerType)
  if (d.type === 'pipe' && d.in) return unwrap(d.in)
  if (d.type === 'union' && d.options) return d.options.flatMap(unwrap)
  return [schema]
}

/** The keys a strict object at `path` accepts, found by walking the zod schema itself. */
export function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current = unwrap(schema)
  for (const segment of path) {
    const next: z.ZodType[] = []
    for (const s of current) {
      const d = def(s)
      if (d.type === 'object' && d.shape && typeof segment === 'string' && segment in d.shape) next.push(...unwrap(d.shape[segment]!))
      else if (d.type === 'array' && d.element) next.push(...unwrap(d.element))
      else if (d.type === 'record' && d.valueType) next.push(...unwrap(d.valueType))
    }
    current = next
  }
  return current.flatMap((s) => (def(s).type === 'object' ? Object.keys(def(s).shape ?? {}) : []))
}
