/**
 * `pnpm emulator`: a GLM emulator for trying the CLI or the demo by hand, and the separate
 * process the benchmarks measure against (so the server's work does not share the client's thread).
 *   PORT (default 4010; 0 picks one), GLM_API_KEY (default test-key),
 *   EMULATOR_REPLY (a fixed reply instead of echo), EMULATOR_CHUNK_SIZE (characters per SSE chunk),
 *   EMULATOR_EMBEDDING_DELAY_MS (every embeddings answer this late: a slow embeddings service)
 */
import { startGlmEmulator } from './emulator.ts'

const port = Number(process.env.PORT ?? 4010)
const fixed = process.env.EMULATOR_REPLY
const emulator = await startGlmEmulator({
  port,
  apiKey: process.env.GLM_API_KEY ?? 'test-key',
  ...(fixed && { reply: () => fixed }),
  ...(process.env.EMULATOR_CHUNK_SIZE && { chunkSize: Number(process.env.EMULATOR_CHUNK_SIZE) }),
})
const embeddingDelay = Number(process.env.EMULATOR_EMBEDDING_DELAY_MS ?? 0)
if (embeddingDelay > 0) emulator.embeddingFaultWith(() => ({ delayMs: embeddingDelay }))
process.stdout.write(`GLM emulator on ${emulator.url} (key "${emulator.apiKey}")\n`)
if (!process.env.EMULATOR_QUIET) process.stdout.write(`Try: GLM_BASE_URL=${emulator.url} GLM_API_KEY=${emulator.apiKey} pnpm parley chat informant\n`)
