/**
 * HTTP errors as data: a status, a stable string code and a message a player can read. Every
 * refusal the handler makes is one of these; anything else becomes a bare 500 with no detail.
 */
import { isParleyError } from '../errors.ts'
import { SaveError } from './saves.ts'

export class HttpProblem extends Error {
  override name = 'HttpProblem'
  readonly status: number
  readonly code: string
  readonly headers: Record<string, string>
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error
  if (error instanceof SaveError) return new HttpProblem(error.code === 'save_other_player' || error.code === 'save_unsigned' ? 403 : 400, error.code, error.message)
  if (isParleyError(error) && error.code === 'store_unavailable') return new HttpProblem(503, 'store_unavailable', 'conversations are unavailable for a moment; try again shortly', { 'retry-after': '1' })
  if (isParleyError(error) && error.code === 'record_invalid') return new HttpProblem(500, 'record_invalid', 'this player\'s memory record cannot be read by this server')
  if (isParleyError(error)) {
    const status = error.code === 'conversation_ended' ? 409 : error.code === 'aborted' ? 409 : 400
    return new HttpProblem(status, error.code, error.message)
  }
  return new HttpProblem(500, 'internal', 'something went wrong on the server')
}

export function problemBody(p: HttpProblem) {
  return { error: { code: p.code, message: p.message } }
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers } })
}
