/**
 * `node --cpu-prof --conditions=@parley/source --import tsx profile-turn.ts`: a profile of
 * convo.say on the informant as shipped (lore by BM25, actions offered) against the emulator.
 */
import { glmProvider, restoreConversation } from '@parley/engine'
import { startEmulatorProcess } from './lib.ts'
import { shippedInformant, snapshotWithTurns } from './sections/common.ts'

const LINE = '霓虹区哪里能打听到消息？'
const emu = await startEmulatorProcess()
const npc = await shippedInformant()
const convo = restoreConversation(npc, snapshotWithTurns(npc, 300, LINE, `echo: ${LINE}`), { provider: glmProvider({ apiKey: emu.key, baseUrl: emu.url }) })
for (let i = 0; i < 3000; i++) await convo.say(LINE)
emu.stop()
process.exit(0)
