/**
 * Reads a request body with a size cap and a deadline: a body over the cap is cut off (413) and a
 * body still arriving after the deadline is abandoned (408), so a client trickling bytes holds
 * nothing for long. `readJson` then parses it and validates it against a zod schema (400).
 */
import type { z } from 'zod'
import { HttpProblem } from './problem.ts'

export interface BodyLimits {
  maxBytes: number
  timeoutMs: number
}

export async function readBytes(request: Request, limits: BodyLimits): Promise<Uint8Array> {
  const { maxBytes, timeoutMs } = limits
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > maxBytes) throw new HttpProblem(413, 'body_too_large', `request body over ${maxBytes} bytes`)
  const reader = request.body?.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  if (reader) {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)))
    try {
      for (;;) {
        const next = await Promise.race([reader.read(), late])
        if (next === 'late') {
          void reader.cancel().catch(() => {})
          throw new HttpProblem(408, 'body_timeout', `the request body did not arrive within ${timeoutMs} ms`, { connection: 'close' })
        }
        if (next.done) break
        size += next.value.byteLength
        if (size > maxBytes) {
          void reader.cancel().catch(() => {})
          throw new HttpProblem(413, 'body_too_large', `request body over ${maxBytes} bytes`, { connection: 'close' })
        }
        chunks.push(next.value)
      }
    } finally {
      clearTimeout(timer)
    }
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) (bytes.set(c, offset), (offset += c.byteLength))
  return bytes
}

/** The body's text, when it is JSON at all (400 `invalid_json` when it is not). */
export async function readJsonText(request: Request, limits: BodyLimits): Promise<{ text: string; data: unknown }> {
  const bytes = await readBytes(request, limits)
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return { text, data: JSON.parse(text) }
  } catch {
    throw new HttpProblem(400, 'invalid_json', 'the request body must be JSON')
  }
}

/** The first problem zod found, as the 400 a client can act on. */
export function invalidBody(error: z.ZodError): HttpProblem {
  const issue = error.issues[0]!
  return new HttpProblem(400, 'invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`)
}

export async function readJson<T extends z.ZodType>(request: Request, schema: T, limits: BodyLimits): Promise<z.output<T>> {
  const { data } = await readJsonText(request, limits)
  const parsed = schema.safeParse(data)
  if (!parsed.success) throw invalidBody(parsed.error)
  return parsed.data
}
