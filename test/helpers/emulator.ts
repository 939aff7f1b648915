import { afterAll, beforeAll, beforeEach } from 'vitest'
import { startGlmEmulator, type EmulatorOptions, type GlmEmulator } from '../glm-emulator/emulator.ts'

/**
 * One emulator for a test file, reset before each test (no requests, no faults, its original
 * reply policy), closed after the file. Read it through the returned getter.
 */
export function useEmulator(options: EmulatorOptions = {}): () => GlmEmulator {
  let emu: GlmEmulator | undefined
  beforeAll(async () => {
    emu = await startGlmEmulator(options)
  })
  afterAll(() => emu?.close())
  beforeEach(() => emu!.reset())
  return () => emu!
}
