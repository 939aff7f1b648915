/** A streamed turn's server-sent events, parsed with eventsource-parser. */
import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { Turn } from '@parley/engine/http'
import { ParleyError } from './error.ts'

export type RawEvent = { event: 'delta'; text: string } | { event: 'done'; turn: Turn }

/** The events of one response body; an `error` event is thrown as a ParleyError. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<RawEvent> {
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).pipeThrough(new EventSourceParserStream()).getReader()
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      const data = JSON.parse(value.data) as unknown
      if (value.event === 'delta') yield { event: 'delta', text: (data as { text: string }).text }
      else if (value.event === 'done') yield { event: 'done', turn: data as Turn }
      else if (value.event === 'error') {
        const e = (data as { error?: { code?: string; message?: string } }).error
        throw new ParleyError(200, e?.code ?? 'internal', e?.message ?? 'the turn failed')
      }
    }
  } finally {
    reader.releaseLock()
  }
}
