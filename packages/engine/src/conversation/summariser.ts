/**
 * The conversation's summariser: one background call at a time to `provider.summarize`, off the
 * player's path. It lives as long as the conversation (stopping the conversation aborts its call),
 * is told to start or cancel by the machine, gives up on a call after `timeoutMs`, and reports only
 * on the call in hand, as `summary.done` or `summary.failed`. A turn never waits for it.
 */
import { fromCallback } from 'xstate'
import type { Provider, SummaryRequest } from '../providers/types.ts'
import type { SummarySpan } from './running-summary.ts'

export type SummaryEvent = { type: 'summary.done'; span: SummarySpan; text: string } | { type: 'summary.failed'; span: SummarySpan; error: unknown }

export interface SummaryCall {
  provider: Provider
  span: SummarySpan
  request: Omit<SummaryRequest, 'signal'>
  timeoutMs: number
}

export class SummaryTimeout extends Error {
  override name = 'SummaryTimeout'
}

export const summariserActor = fromCallback<{ type: 'summarise'; call: SummaryCall } | { type: 'cancel' }, undefined>(({ sendBack, receive }) => {
  let current: AbortController | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const stop = () => {
    clearTimeout(timer)
    timer = undefined
    current?.abort()
    current = undefined
  }
  receive((event) => {
    stop()
    if (event.type === 'cancel') return
    const { provider, span, request, timeoutMs } = event.call
    const controller = new AbortController()
    current = controller
    const settle = (e: SummaryEvent) => {
      if (current !== controller) return
      clearTimeout(timer)
      timer = undefined
      current = undefined
      sendBack(e)
    }
    timer = setTimeout(() => {
      settle({ type: 'summary.failed', span, error: new SummaryTimeout(`the summary call took longer than ${timeoutMs} ms`) })
      controller.abort()
    }, timeoutMs)
    // Started once the machine's step is over: a conversation restored already ended cancels it
    // in the same step, before any request leaves.
    queueMicrotask(() => {
      if (current !== controller) return
      Promise.resolve()
        .then(() => provider.summarize!({ ...request, signal: controller.signal }))
        .then(
          (result) => settle({ type: 'summary.done', span, text: result.text }),
          (error: unknown) => settle({ type: 'summary.failed', span, error }),
        )
    })
  })
  return stop
})
