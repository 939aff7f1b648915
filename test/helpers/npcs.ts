import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseNpc, type Npc } from '@parley/engine'
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
