import type { Provider, ProviderReply, ProviderTurn } from './types.ts'

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
  }
}

export function chooseLine(turn: Pick<ProviderTurn, 'playerLine' | 'script' | 'revealed'>): string {
  if (turn.revealed.length > 0) return turn.revealed.map((r) => r.reveal ?? r.fact).join('\n')
  const line = turn.playerLine.toLowerCase()
  for (const reply of turn.script.replies) {
    if (!reply.keywords || reply.keywords.some((k) => line.includes(k.toLowerCase()))) return reply.say
  }
  return turn.script.default ?? '……'
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
  })
}
