import { beforeEach, vi } from 'vitest'

// A stray console call in library code is a bug: the engine reports through return values,
// errors and events, never by printing into a game's console.
beforeEach(() => {
  for (const method of ['log', 'warn', 'error', 'info', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      throw new Error(`unexpected console.${method}: ${args.map(String).join(' ')}`)
    })
  }
})
