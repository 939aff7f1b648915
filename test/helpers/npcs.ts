import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseNpc, type Npc } from '@parley/engine'
import type { Condition } from '../../packages/engine/src/conditions/types.ts'
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
 */
export function onlyGameEventsUnlock(condition: Condition): boolean {
  if ('given' in condition || 'flag' in condition) return true
  if ('all' in condition) return condition.all.some(onlyGameEventsUnlock)
  if ('any' in condition) return condition.any.every(onlyGameEventsUnlock)
  return false
}
