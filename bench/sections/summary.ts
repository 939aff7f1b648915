import { createConversation, type Conversation, type GlmMessage, type Provider, type SummaryRequest } from '@parley/engine'
import { estimateTokens, scriptedSummary, summaryMessages } from '@parley/engine/unstable'
import { informant, type SectionOptions, type SectionResult } from './common.ts'

const NAME = '林小雨'
const FIRST = `我叫${NAME}，是来找我哥哥的赏金猎人。`
const LINES = ['你好，我在找山贼透子', '他最近在哪里出没？', '天下没有免费的午餐，50金币如何？', '北边的废墟？我怎么记得那边是农场', '透子的手下有多少人？', '山庄里那位大人物是谁？', '你还知道什么？', '好吧，谢谢你']
const REPLY = '哦，这个名字在这片区域可是相当响亮。但是关于他的消息，我得谨慎一些。你找他有什么事吗？不过在此之前，如果你有什么可以证明自己意图的东西，或许我能帮你更多一些。'
const TURNS = 200
const ROWS = [1, 10, 25, 50, 100, 150, 200]
const tokens = (messages: readonly GlmMessage[]) => messages.reduce((n, m) => n + estimateTokens(m.content ?? '') + 4, 0)

interface Run {
  perTurn: number[]
  nameAt150: boolean
  summaryCalls: number
  /** Prompt tokens the summary calls sent, and the tokens of the summaries they wrote. */
  summaryIn: number
  summaryOut: number
}

/**
 * Issue 18: prompt tokens per turn over 200 turns with a running summary, against plain trimming and
 * against the seed's resend-everything list; and what the summariser costs in extra calls.
 */
export async function summarySection(_: SectionOptions): Promise<SectionResult> {
  const npc = informant()
  const line = (turn: number) => (turn === 1 ? FIRST : LINES[turn % LINES.length]!)

  async function engine(summarize: boolean): Promise<Run> {
    const run: Run = { perTurn: [], nameAt150: false, summaryCalls: 0, summaryIn: 0, summaryOut: 0 }
    const provider: Provider = {
      name: summarize ? 'summaries' : 'trimming',
      reply: async () => ({ text: REPLY }),
      ...(summarize && {
        // The scripted summariser: deterministic, and it fills its budget as clauses pile up, so the
        // summary is as large as the NPC file allows: the worst case for prompt size.
        summarize: async (request: SummaryRequest) => {
          const result = scriptedSummary(request)
          run.summaryCalls++
          run.summaryIn += tokens(summaryMessages(request))
          run.summaryOut += estimateTokens(result.text)
          return result
        },
      }),
    }
    const convo: Conversation = createConversation(npc, { provider })
    convo.on('request.sent', (e) => {
      run.perTurn.push(tokens(e.messages))
      if (run.perTurn.length === 150) run.nameAt150 = e.messages.some((m) => m.content?.includes(NAME))
    })
    for (let turn = 1; turn <= TURNS; turn++) {
      await convo.say(line(turn))
      // The summary lands between turns, as it does while a player reads the answer.
      await new Promise((r) => setTimeout(r, 0))
    }
    convo.stop()
    return run
  }

  // The seed: one global list, the secret in the system prompt, every turn appended forever.
  const seed: Run = { perTurn: [], nameAt150: false, summaryCalls: 0, summaryIn: 0, summaryOut: 0 }
  const list: GlmMessage[] = [{ role: 'system', content: `${npc.persona}你掌握了“${npc.secrets[0]!.fact}”的关键情报，请不要把这个情报轻易告诉玩家!` }]
  for (let turn = 1; turn <= TURNS; turn++) {
    list.push({ role: 'user', content: line(turn) })
    seed.perTurn.push(tokens(list))
    if (turn === 150) seed.nameAt150 = list.some((m) => m.content?.includes(NAME))
    list.push({ role: 'assistant', content: REPLY })
  }
  const summaries = await engine(true)
  const trimming = await engine(false)

  const total = (r: Run) => r.perTurn.reduce((a, b) => a + b, 0)
  const max = (r: Run) => Math.max(...r.perTurn)
  const fmt = (n: number) => n.toLocaleString('en')
  const rows = ROWS.map((t) => `| ${t} | ${summaries.perTurn[t - 1]} | ${trimming.perTurn[t - 1]} | ${seed.perTurn[t - 1]} |`)
  const per100 = (n: number) => fmt(Math.round((n * 100) / TURNS))
  const yes = (b: boolean) => (b ? 'yes' : 'no')
  const markdown = `## History summaries: prompt tokens per turn (issue 18)

A ${TURNS}-turn session with the informant (history window ${npc.history.max_tokens} tokens, summary ${npc.history.summary_tokens} tokens); the player gives a name in turn 1. Counted with the engine's CJK-aware token estimate for every contender (the same counter that holds the budgets), in process with a fixed reply; the summariser is the scripted provider's, which fills its budget, so the summary rows are the largest prompts the NPC file allows.

| turn | summaries | plain trimming | seed (resend everything) |
|---|---|---|---|
${rows.join('\n')}
| **largest prompt** | **${fmt(max(summaries))}** | **${fmt(max(trimming))}** | **${fmt(max(seed))}** |
| **${TURNS}-turn total** | **${fmt(total(summaries))}** | **${fmt(total(trimming))}** | **${fmt(total(seed))}** |
| turn-1 name in the request at turn 150 | ${yes(summaries.nameAt150)} | ${yes(trimming.nameAt150)} | ${yes(seed.nameAt150)} |

The summariser's cost: **${per100(summaries.summaryCalls)} extra model calls per 100 turns** (${summaries.summaryCalls} in ${TURNS} turns: one each time the talk outgrows the window, folding half of it), sending ${per100(summaries.summaryIn)} prompt tokens and writing ${per100(summaries.summaryOut)} tokens per 100 turns. With them, the session costs ${fmt(total(summaries) + summaries.summaryIn + summaries.summaryOut)} tokens in all: ${((1 - (total(summaries) + summaries.summaryIn + summaries.summaryOut) / total(seed)) * 100).toFixed(0)}% fewer than the seed, ${(((total(summaries) + summaries.summaryIn + summaries.summaryOut) / total(trimming) - 1) * 100).toFixed(0)}% more than plain trimming, which forgets the name.`
  return {
    markdown,
    reading: `History summaries: the largest prompt is ${fmt(max(summaries))} tokens with a running summary (${fmt(max(trimming))} trimming alone, ${fmt(max(seed))} for the seed at turn ${TURNS}), the turn-1 name is still sent at turn 150 (${yes(trimming.nameAt150)} with trimming alone), for ${per100(summaries.summaryCalls)} extra summary calls per 100 turns.`,
  }
}
