import type { Provider, ProviderReply, ProviderTurn } from './types.ts'
import type { GlmToolCall } from '../glm/types.ts'
import { scriptedSummary } from './scripted-summary.ts'

export interface ScriptedProviderOptions {
  /** Characters per streamed delta. */
  chunkSize?: number
  /** Pause between deltas, so a demo feels typed rather than pasted. */
  delayMs?: number
}

/**
 * Answers from the NPC file alone, offline and deterministic: a secret that just unlocked is
 * revealed (its `reveal` line, else its fact); otherwise the first available reply whose
 * keyword appears in the player's line; otherwise the default line.
 */
export function scriptedProvider(options: ScriptedProviderOptions = {}): Provider {
  const size = options.chunkSize ?? 3
  return {
    name: 'scripted',
    async reply(turn: ProviderTurn, onDelta?: (text: string) => void): Promise<ProviderReply> {
      const act = scriptedAction(turn)
      if (act) return { text: '', finishReason: 'tool_calls', toolCalls: [act] }
      const text = chooseLine(turn)
      if (onDelta) {
        const chars = Array.from(text)
        for (let i = 0; i < chars.length; i += size) {
          if (turn.signal.aborted) break
          if (options.delayMs) await sleep(options.delayMs, turn.signal)
          onDelta(chars.slice(i, i + size).join(''))
        }
      }
      if (turn.signal.aborted) throw turn.signal.reason ?? new Error('aborted')
      return { text, finishReason: 'stop' }
    },
    async summarize(request) {
      if (request.signal.aborted) throw request.signal.reason ?? new Error('aborted')
      return scriptedSummary(request)
    },
  }
}

type Reply = ProviderTurn['script']['replies'][number]

/** The first authored reply for the player's line; one whose action is not offered now is skipped. */
function matchReply(turn: Pick<ProviderTurn, 'playerLine' | 'script' | 'tools'>): Reply | undefined {
  const line = turn.playerLine.toLowerCase()
  return turn.script.replies.find(
    (reply) =>
      (!reply.keywords || reply.keywords.some((k) => line.includes(k.toLowerCase()))) &&
      (!reply.action || turn.tools.some((t) => t.function.name === reply.action!.name)),
  )
}

/** A reply with an action acts first; once the action's result is in the messages, it speaks. */
function scriptedAction(turn: ProviderTurn): GlmToolCall | undefined {
  if (turn.messages.at(-1)?.role === 'tool') return undefined
  const reply = matchReply(turn)
  if (!reply?.action) return undefined
  return { id: `call_scripted_${turn.messages.length}`, type: 'function', function: { name: reply.action.name, arguments: JSON.stringify(reply.action.arguments) } }
}

/** The authored reply whose action the model just called (the tool-call message before the results). */
function actedReply(turn: Pick<ProviderTurn, 'playerLine' | 'script'> & Partial<Pick<ProviderTurn, 'messages'>>): Reply | undefined {
  const request = turn.messages?.findLast((m) => m.role === 'assistant' && m.tool_calls?.length)
  const called = request?.tool_calls?.[0]?.function.name
  if (!called) return undefined
  const line = turn.playerLine.toLowerCase()
  return turn.script.replies.find((r) => r.action?.name === called && (!r.keywords || r.keywords.some((k) => line.includes(k.toLowerCase()))))
}

export function chooseLine(turn: Pick<ProviderTurn, 'playerLine' | 'script' | 'revealed' | 'tools'> & Partial<Pick<ProviderTurn, 'messages'>>): string {
  const reveals = turn.revealed.map((r) => r.reveal ?? r.fact)
  const last = turn.messages?.at(-1)
  // After its action, the line that asked for it is said, even if the action is no longer offered
  // (an action the game carried out may have switched its own `when` off).
  const acted = last?.role === 'tool' ? actedReply(turn) : undefined
  const reply = acted ?? matchReply(turn)
  if (acted && last?.role === 'tool') {
    // An authored line assumes its action happened; if the game refused it, the default is said.
    const said = /"status":"done"/.test(last.content) ? acted.say : (turn.script.default ?? '……')
    return [said, ...reveals].join('\n')
  }
  if (reveals.length > 0) return reveals.join('\n')
  if (reply) return reply.say
  return turn.script.default ?? '……'
}

/** A pause that an abort cuts short; its listener goes when the pause ends, so chunks never pile them up. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // The listener goes when the pause ends: one per streamed chunk would pile up on the turn's signal.
    const done = () => {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
