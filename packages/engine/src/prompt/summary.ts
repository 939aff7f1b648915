/**
 * The request that asks a model to condense part of a conversation, and the guard on what comes
 * back. Pure: the engine decides what goes in (what was said, earlier summaries), never the model.
 */
import type { GlmMessage } from '../glm/types.ts'
import type { SummaryRequest } from '../providers/types.ts'
import { estimateTokens } from './tokens.ts'

/** The transcript as the NPC remembers it: tool exchanges become a note that it acted. */
export function transcriptLines(request: Pick<SummaryRequest, 'entries' | 'npc'>): string[] {
  const lines: string[] = []
  for (const e of request.entries) {
    if (e.role === 'user') lines.push(`玩家：${e.content}`)
    else if (e.role === 'assistant' && e.tool_calls?.length) lines.push(`（${request.npc.name}做了：${e.tool_calls.map((c) => c.function.name).join('、')}）`)
    else if (e.role === 'assistant' && e.content) lines.push(`${request.npc.name}：${e.content}`)
  }
  return lines
}

const PURPOSE: Record<SummaryRequest['purpose'], string> = {
  history: '把下面这段较早的对话浓缩成你自己的回忆，供你在接下来的对话里参考。',
  memory: '这次和玩家的谈话结束了。把它浓缩成你自己的记忆，下次再见到这个玩家时你会想起它。',
}

/** GLM messages for a summary call: one system message, then the transcript as the user's turn. */
export function summaryMessages(request: SummaryRequest): GlmMessage[] {
  const system = [
    `你是${request.npc.name}。${PURPOSE[request.purpose]}`,
    `用第一人称写，不超过${request.maxTokens}个字。保留玩家告诉你的名字、身份、请求和承诺，他给过你什么、你给过他什么、答应过什么；寒暄可以省略。只写对话里确实出现过的事，不要编造。`,
    request.previous ? '“以前的回忆”里的要点也要保留下来，和新的内容合成一段。' : '',
  ]
    .filter(Boolean)
    .join('\n')
  const user = [request.previous ? `以前的回忆：\n${request.previous}\n` : '', `对话：\n${transcriptLines(request).join('\n')}`].join('\n')
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ]
}

/**
 * A summary held to its budget: a model may overrun the limit it was given, and the prompt must
 * stay bounded whatever it sends. Cut at a sentence end where one is near.
 */
export function clipToTokens(text: string, maxTokens: number): string {
  const trimmed = text.trim()
  if (estimateTokens(trimmed) <= maxTokens) return trimmed
  const chars = Array.from(trimmed)
  let lo = 0
  let hi = chars.length
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (estimateTokens(chars.slice(0, mid).join('')) <= maxTokens) lo = mid
    else hi = mid - 1
  }
  const cut = chars.slice(0, lo).join('')
  const end = Math.max(cut.lastIndexOf('。'), cut.lastIndexOf('.'), cut.lastIndexOf('！'), cut.lastIndexOf('？'))
  return end >= cut.length / 2 ? cut.slice(0, end + 1) : cut
}
