import { createConversation, type GlmMessage, type Provider } from '@parley/engine'
import { estimateTokens } from '@parley/engine/unstable'
import { informant, type SectionOptions, type SectionResult } from './common.ts'

const LINES = ['你好，我在找山贼透子', '他最近在哪里出没？', '天下没有免费的午餐，50金币如何？', '北边的废墟？我怎么记得那边是农场', '透子的手下有多少人？', '山庄里那位大人物是谁？', '你还知道什么？', '好吧，谢谢你']
const REPLY = '哦，这个名字在这片区域可是相当响亮。但是关于他的消息，我得谨慎一些。你找他有什么事吗？不过在此之前，如果你有什么可以证明自己意图的东西，或许我能帮你更多一些。'
const stub: Provider = { name: 'stub', reply: async () => ({ text: REPLY }) }
const tokens = (messages: GlmMessage[]) => messages.reduce((n, m) => n + estimateTokens(m.content) + 4, 0)

/** Issue 7.4: prompt tokens per turn over a 200-turn session, ours against the seed's resend-everything list. */
export async function tokenSection(_: SectionOptions): Promise<SectionResult> {
  const npc = informant()
  const convo = createConversation(npc, { provider: stub })
  // The seed: one global list, the secret in the system prompt, every turn appended forever.
  const seed: GlmMessage[] = [{ role: 'system', content: `${npc.persona}你掌握了“${npc.secrets[0]!.fact}”的关键情报，请不要把这个情报轻易告诉玩家!` }]
  const rows: string[] = []
  let oursTotal = 0
  let seedTotal = 0
  let oursMax = 0
  for (let turn = 1; turn <= 200; turn++) {
    const line = LINES[turn % LINES.length]!
    const ours = tokens(convo.messages(line))
    seed.push({ role: 'user', content: line })
    const theirs = tokens(seed)
    oursTotal += ours
    seedTotal += theirs
    oursMax = Math.max(oursMax, ours)
    if ([1, 10, 25, 50, 100, 150, 200].includes(turn)) rows.push(`| ${turn} | ${ours} | ${theirs} | ${((1 - ours / theirs) * 100).toFixed(0)}% |`)
    await convo.say(line)
    seed.push({ role: 'assistant', content: REPLY })
  }
  const budget = npc.history.max_tokens
  return {
    markdown: `## Prompt tokens per turn (issue 7.4)\n\nA 200-turn session with the informant (history budget ${budget} tokens), estimated with the engine's CJK-aware counter for both:\n\n| turn | parley | seed (resend everything) | saving |\n|---|---|---|---|\n${rows.join('\n')}\n| **200-turn total** | **${oursTotal.toLocaleString('en')}** | **${seedTotal.toLocaleString('en')}** | **${((1 - oursTotal / seedTotal) * 100).toFixed(0)}%** |`,
    reading: `Tokens: at most ${oursMax} prompt tokens in any turn (the history budget holds), ${((1 - oursTotal / seedTotal) * 100).toFixed(0)}% fewer over 200 turns than the seed's ever-growing list, which also ships the secret in every request.`,
  }
}
