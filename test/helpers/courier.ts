import { readFileSync } from 'node:fs'
import { parseNpc, type Npc } from '@parley/engine'
import type { EmulatedReply, RecordedRequest } from '../glm-emulator/emulator.ts'
import { ROOT } from './npcs.ts'

export const COURIER_DIR = `${ROOT}test/fixtures/glm-2026`
export const KEY_LINE = '钥匙给你，别弄丢了。'
export const PLAIN_LINE = '有信要送吗？'
/** What the model thinks before acting: must reach the model again within the turn, and nothing else. */
export const TOOL_REASONING = '〔工具推理〕玩家付了银币，要钥匙。'

/** The courier fixture, optionally edited (a model name, a history budget). */
export function courier(edit: (yaml: string) => string = (y) => y): Npc {
  const path = `${COURIER_DIR}/courier.yaml`
  return parseNpc(edit(readFileSync(path, 'utf8')), path)
}

/**
 * A model that hands over the key when it may (the `give_key` tool is offered), then speaks once
 * the result is in; otherwise it says the plain line.
 */
export function keyModel(args: string | Record<string, unknown> = '{"door":"七号仓库"}', calls = 1) {
  return (req: RecordedRequest): EmulatedReply => {
    const last = req.body.messages.at(-1)
    if (last.role === 'tool') return { content: KEY_LINE }
    const offered = (req.body.tools ?? []).some((t: { function: { name: string } }) => t.function.name === 'give_key')
    if (!offered) return { content: PLAIN_LINE }
    return { content: '', reasoning: TOOL_REASONING, toolCalls: Array.from({ length: calls }, () => ({ name: 'give_key', arguments: args })) }
  }
}
