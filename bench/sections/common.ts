import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseNpc, type Npc, type ConversationSnapshot } from '@parley/engine'
import { loadNpcFile } from '@parley/engine/node'
import { ROOT } from '../lib.ts'

export interface SectionOptions {
  quick: boolean
}
export interface SectionResult {
  markdown: string
  reading?: string
}

/** The informant exactly as shipped, its lore files read as a game would read them. */
export function shippedInformant(): Promise<Npc> {
  return loadNpcFile(join(ROOT, 'content/npcs/informant.yaml'))
}

export function informant(edit: (yaml: string) => string = (y) => y): Npc {
  const path = join(ROOT, 'content/npcs/informant.yaml')
  return parseNpc(edit(readFileSync(path, 'utf8')), path)
}

/** A save game with `turns` identical exchanges, so the request a conversation sends stays the same turn after turn. */
export function snapshotWithTurns(npc: Npc, turns: number, player = '你好', reply = 'echo: 你好'): ConversationSnapshot {
  return {
    format: 'parley.conversation',
    version: 1,
    npc: npc.id,
    state: 'awaiting',
    history: Array.from({ length: turns }, () => [
      { role: 'user' as const, content: player },
      { role: 'assistant' as const, content: reply },
    ]).flat(),
    items: {},
    flags: [],
    unlocked: [],
    said: [],
    fresh: [],
    turns,
    failures: 0,
  }
}
