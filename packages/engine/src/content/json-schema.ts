import { z } from 'zod'
import { npcSchema } from './schema.ts'

/** The JSON Schema editors use (yaml-language-server) for completion and validation as you type. */
export function npcJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(npcSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return { ...schema, $id: 'https://parley.dev/npc.schema.json', title: 'Parley NPC' }
}
