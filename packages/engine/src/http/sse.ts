/** Server-sent events: the response shape, one encoded event, and a stored answer replayed as a stream. */

const encoder = new TextEncoder()

export function sseResponse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } })
}

export function sseEvent(name: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)
}

/** A turn already answered (an idempotent retry), sent as one delta and its done event. */
export function replayAsSse(answer: unknown): Response {
  const text = (answer as { text?: string }).text ?? ''
  return sseResponse(new ReadableStream({
    start(out) {
      if (text) out.enqueue(sseEvent('delta', { text }))
      out.enqueue(sseEvent('done', answer))
      out.close()
    },
  }))
}
