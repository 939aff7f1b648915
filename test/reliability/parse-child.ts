/** Parses stdin as an NPC file and reports the outcome as JSON: run under a memory cap and a deadline. */
import { parseNpc } from '@parley/engine'
import { isContentError } from '@parley/engine/unstable'

let text = ''
for await (const chunk of process.stdin) text += chunk
try {
  const npc = parseNpc(text, 'hostile.yaml')
  process.stdout.write(JSON.stringify({ ok: true, id: npc.id }))
} catch (error) {
  process.stdout.write(JSON.stringify(isContentError(error) ? { ok: false, codes: error.issues.map((i) => i.code) } : { crashed: String(error) }))
}
