/** `pnpm emulator`: a GLM emulator for trying the CLI or demo by hand (GLM_BASE_URL=... GLM_API_KEY=test-key). */
import { startGlmEmulator } from './emulator.ts'

const port = Number(process.env.PORT ?? 4010)
const emulator = await startGlmEmulator({ port, apiKey: process.env.GLM_API_KEY ?? 'test-key' })
process.stdout.write(`GLM emulator on ${emulator.url} (key "${emulator.apiKey}"). Try:\n  GLM_BASE_URL=${emulator.url} GLM_API_KEY=${emulator.apiKey} pnpm parley chat informant\n`)
