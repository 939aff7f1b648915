import { expect } from 'vitest'
import { GlmError } from '@parley/engine'

/** The GlmError a call fails with; the test fails if it succeeds or fails with anything else. */
export async function glmFailure(promise: Promise<unknown>): Promise<GlmError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(GlmError)
    return error as GlmError
  }
  throw new Error('expected the call to fail')
}
