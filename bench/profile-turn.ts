/** `node --cpu-prof --conditions=@parley/source --import tsx profile-turn.ts`: a profile of convo.say against the emulator. */
import { glmProvider, restoreConversation } from '@parley/engine'
import { messageTokens } from '@parley/engine/unstable'
import { startEmulatorProcess } from './lib.ts'
import { informant, snapshotWithTurns } from './sections/common.ts'

const emu = await startEmulatorProcess()
const pair = messageTokens('你好') + messageTokens('echo: 你好')
const npc = informant((y) => y.replace('history: { max_tokens: 1500 }', `history: { max_tokens: ${20 * pair} }`))
const convo = restoreConversation(npc, snapshotWithTurns(npc, 20), { provider: glmProvider({ apiKey: emu.key, baseUrl: emu.url }) })
for (let i = 0; i < 3000; i++) await convo.say('你好')
emu.stop()
process.exit(0)
