/**
 * The machine's two outside jobs, each invoked by the state it belongs to and stopped when that
 * state is left (which aborts its work): retrieving lore asynchronously (`preparing`) and one
 * provider call (`calling`). They report back as events; the machine decides what they mean.
 */
import { fromCallback, fromPromise } from 'xstate'
import type { RetryInfo } from '../glm/client.ts'
import type { GlmMessage } from '../glm/types.ts'
import type { Provider, ProviderReply, ProviderTurn } from '../providers/types.ts'

export type CallEvent =
  | { type: 'call.delta'; text: string }
  | { type: 'call.retry'; info: RetryInfo }
  | { type: 'call.done'; reply: ProviderReply }
  | { type: 'call.failed'; error: unknown }

export interface CallInput {
  provider: Provider
  turn: Omit<ProviderTurn, 'signal' | 'onRetry'>
  stream: boolean
}

export const callActor = fromCallback<{ type: 'never' }, CallInput>(({ input, sendBack }) => {
  const controller = new AbortController()
  let settled = false
  const settle = (event: CallEvent) => {
    settled = true
    sendBack(event)
  }
  input.provider
    .reply({ ...input.turn, signal: controller.signal, onRetry: (info) => sendBack({ type: 'call.retry', info }) }, input.stream ? (text) => sendBack({ type: 'call.delta', text }) : undefined)
    .then(
      (reply) => settle({ type: 'call.done', reply }),
      (error: unknown) => settle({ type: 'call.failed', error }),
    )
  // Aborting a call that already finished still makes ky and undici build a DOMException with a
  // stack trace, so only a call still running is aborted.
  return () => {
    if (!settled) controller.abort()
  }
})

export const loreActor = fromPromise<{ messages: GlmMessage[]; lore: string[] }, { retrieve: () => Promise<{ messages: GlmMessage[]; lore: string[] }> }>(({ input }) => input.retrieve())
