import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseNpc, type Npc } from '@parley/engine'
import type { Condition } from '../../packages/engine/src/conditions/types.ts'
import { evaluate } from '../../packages/engine/src/conditions/evaluate.ts'
import { loadNpcDir } from '@parley/engine/node'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const NPC_DIR = `${ROOT}content/npcs`

export function informant(): Npc {
  const path = `${NPC_DIR}/informant.yaml`
  return parseNpc(readFileSync(path, 'utf8'), path)
}

export function allNpcs(): Promise<Npc[]> {
  return loadNpcDir(NPC_DIR)
}

/** An NPC file changed by a designer after a game was saved. */
export function editedInformant(edit: (yaml: string) => string): Npc {
  const path = `${NPC_DIR}/informant.yaml`
  return parseNpc(edit(readFileSync(path, 'utf8')), path)
}

/**
 * True when no player line can make `condition` hold: every way to it needs a gift or a flag from
 * the game. (`said` and `turns` are the player's to reach; `not` can hold with no event at all.)
 * A `var` counts when the game owns the variable and the test fails at its default.
 */
export function onlyGameEventsUnlock(condition: Condition, npc?: Npc): boolean {
  if ('given' in condition || 'flag' in condition) return true
  if ('var' in condition) {
    const [name] = Object.keys(condition.var)
    const decl = npc && name !== undefined && Object.hasOwn(npc.vars, name) ? npc.vars[name]! : undefined
    if (!npc || decl?.owner !== 'game') return false
    return !evaluate(condition, { items: {}, flags: [], turns: 0, vars: Object.fromEntries(Object.entries(npc.vars).map(([n, d]) => [n, d.default])) })
  }
  if ('all' in condition) return condition.all.some((c) => onlyGameEventsUnlock(c, npc))
  if ('any' in condition) return condition.any.every((c) => onlyGameEventsUnlock(c, npc))
  return false
}
