/**
 * The machine's outside jobs: provider calls (one caller per conversation, told to call and to
 * cancel by the `calling` state) and asynchronous lore retrieval (invoked by `preparing`, stopped
 * when it is left). They report back as events; the machine decides what they mean.
 */
import { fromCallback, fromPromise } from 'xstate'
import type { RetryInfo } from '../glm/client.ts'
import type { PreparedRequest } from './prepare.ts'
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

/**
 * The conversation's caller: it lives as long as the conversation (an actor spawned per call cost
 * more than the rest of the machine's step), makes the call `calling` asks for on entry, and
 * aborts it when `calling` is left. It reports only on the call in hand, so an answer to a call
 * the machine has left is never delivered: the machine needs no turn ids to tell.
 */
export const callActor = fromCallback<{ type: 'call'; input: CallInput } | { type: 'cancel' }, undefined>(({ sendBack, receive }) => {
  let current: AbortController | undefined
  receive((event) => {
    // Aborting a call that already finished still makes ky and undici build a DOMException with a
    // stack trace, so only a call still running is aborted.
    current?.abort()
    current = undefined
    if (event.type === 'cancel') return
    const controller = new AbortController()
    current = controller
    const { input } = event
    // Each report is sent only while this call is the one in hand. Inline callbacks rather than
    // helpers in variables: two closures fewer per call, and no function names set (tsx keeps names).
    input.provider
      .reply(
        { ...input.turn, signal: controller.signal, onRetry: (info) => void (current === controller && sendBack({ type: 'call.retry', info })) },
        input.stream ? (text) => void (current === controller && sendBack({ type: 'call.delta', text })) : undefined,
      )
      .then(
        (reply) => {
          if (current !== controller) return
          current = undefined
          sendBack({ type: 'call.done', reply })
        },
        (error: unknown) => {
          if (current !== controller) return
          current = undefined
          sendBack({ type: 'call.failed', error })
        },
      )
  })
  return () => current?.abort()
})

export const loreActor = fromPromise<PreparedRequest, { retrieve: () => Promise<PreparedRequest> }>(({ input }) => input.retrieve())
