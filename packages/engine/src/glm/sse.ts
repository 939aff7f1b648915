import { createParser } from 'eventsource-parser'

/**
 * Yields the `data` of each server-sent event. Returns when the body ends; whether that end was
 * clean (after `[DONE]`) is for the caller to judge.
 */
export async function* readSseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const pending: string[] = []
  const parser = createParser({ onEvent: (event) => pending.push(event.data), maxBufferSize: 4 * 1024 * 1024 })
  const reader = body.getReader()
  const decoder = new TextDecoder()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      parser.feed(decoder.decode(value, { stream: true }))
      while (pending.length > 0) yield pending.shift()!
    }
    parser.feed(decoder.decode())
    while (pending.length > 0) yield pending.shift()!
  } finally {
    // Stops the download when the consumer leaves early (abort, break, error).
    reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}
