import { createInterface } from 'node:readline'
import type { Npc } from '../content/schema.ts'
import { createConversation } from '../conversation/conversation.ts'
import { isParleyError } from '../errors.ts'
import { glmProvider } from '../providers/glm.ts'
import type { ServerKind } from '../glm/thinking.ts'
import { scriptedProvider } from '../providers/scripted.ts'
import type { CliIo } from './run.ts'
import { formatExplanation } from '../inspect/format.ts'

/** GLM_SERVER names the server behind GLM_BASE_URL when its URL does not say (see README, Models and thinking). */
const serverFromEnv = (value: string | undefined): ServerKind | undefined => (value === 'glm' || value === 'ollama' || value === 'vllm' || value === 'openai' ? value : undefined)

/**
 * The seed's terminal loop, done properly. Piped input is read one line a turn, in order;
 * on a TTY the reply streams as it arrives.
 */
export async function runChat(npc: Npc, io: CliIo & { provider?: string | undefined }): Promise<number> {
  const useGlm = io.provider === 'glm' || (io.provider === undefined && !!io.env.GLM_API_KEY)
  if (useGlm && !io.env.GLM_API_KEY) {
    io.stderr.write('--provider glm needs GLM_API_KEY (and GLM_BASE_URL for a local or compatible server)\n')
    return 2
  }
  const provider = useGlm
    ? glmProvider({ apiKey: io.env.GLM_API_KEY, baseUrl: io.env.GLM_BASE_URL, model: io.env.GLM_MODEL, server: serverFromEnv(io.env.GLM_SERVER) })
    : scriptedProvider()
  const tty = !!io.stdout.isTTY && !!io.stdin.isTTY
  const out = (s: string) => io.stdout.write(s)
  // The terminal is the game here: it carries out every action the NPC takes, and says so.
  const convo = createConversation(npc, {
    provider,
    actions: {
      handler: (call) => {
        out(`[${npc.name} does ${call.name}${Object.keys(call.args).length ? ` ${JSON.stringify(call.args)}` : ''}]\n`)
        return { ok: true }
      },
    },
  })
  out(`[${npc.name} · ${provider.name} provider${useGlm ? ` · ${io.env.GLM_MODEL ?? npc.model.name}` : ''} · /give ITEM [COUNT], /flag NAME, /var NAME VALUE, /state, /why, /quit]\n`)
  if (npc.greeting) out(`${npc.name}: ${npc.greeting}\n`)
  convo.on('turn.retrying', (e) => io.stderr.write(`[retrying (${e.attempt}): ${e.error.message}]\n`))

  const rl = createInterface({ input: io.stdin, terminal: false })
  if (tty) out('> ')
  for await (const line of rl) {
    if (!tty) out(`> ${line}\n`)
    if (line.startsWith('/')) {
      const [cmd, ...args] = line.trim().split(/\s+/)
      if (cmd === '/quit') {
        out(`${npc.name}: ${convo.end().text}\n`)
        break
      }
      try {
        if (cmd === '/give') {
          const items = Object.keys(npc.items)
          const count = args[1] === undefined ? 1 : /^\d+$/.test(args[1]) ? Number(args[1]) : NaN
          if (!args[0]) {
            out(`[/give needs an item: /give ITEM [COUNT]; ${npc.name} takes ${items.join(', ') || 'no items'}]\n`)
          } else if (!Number.isSafeInteger(count) || count < 1 || args.length > 2) {
            out(`[the count must be a whole number of 1 or more, like /give ${args[0]} 3, not "${args.slice(1).join(' ')}"]\n`)
          } else {
            const { unlocked } = convo.give(args[0], count)
            out(`[gave ${npc.items[args[0]]?.name ?? args[0]} ×${count}]${unlocked.length ? ` [unlocked: ${unlocked.join(', ')}]` : ''}\n`)
          }
        } else if (cmd === '/flag') {
          const { unlocked } = convo.setFlag(args[0] ?? '')
          out(`[flag ${args[0]} set]${unlocked.length ? ` [unlocked: ${unlocked.join(', ')}]` : ''}\n`)
        } else if (cmd === '/var') {
          const names = Object.keys(npc.vars)
          if (args.length !== 2) {
            out(`[/var needs a name and a value: /var NAME VALUE; ${npc.name} has ${names.join(', ') || 'no variables'}]\n`)
          } else {
            // A number variable takes the text as a number; a word variable takes it as it is.
            const decl = Object.hasOwn(npc.vars, args[0]!) ? npc.vars[args[0]!] : undefined
            const value = decl && !('one_of' in decl) && /^-?\d+(\.\d+)?$/.test(args[1]!) ? Number(args[1]) : args[1]!
            const { unlocked } = convo.setVar(args[0]!, value)
            out(`[${args[0]} = ${value}]${unlocked.length ? ` [unlocked: ${unlocked.join(', ')}]` : ''}\n`)
          }
        } else if (cmd === '/state') {
          const secrets = convo.secrets().map((s) => `${s.id}: ${s.unlocked ? 'unlocked' : `locked (${s.condition})`}`)
          out(`[state ${convo.state} · turns ${convo.turns} · items ${JSON.stringify(convo.items())} · flags ${convo.flags().join(', ') || 'none'}${Object.keys(npc.vars).length ? ` · vars ${Object.entries(convo.vars()).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}]\n[${secrets.join(' · ') || 'no secrets'}]\n`)
        } else if (cmd === '/why') {
          out(`${formatExplanation(convo.explain())}\n`)
        } else {
          out(`[unknown command ${cmd}: try /give ITEM [COUNT], /flag NAME, /var NAME VALUE, /state, /why, /quit]\n`)
        }
      } catch (error) {
        out(`[${isParleyError(error) ? error.message : String(error)}]\n`)
      }
      if (tty) out('> ')
      continue
    }
    try {
      let result
      if (tty) {
        out(`${npc.name}: `)
        const stream = convo.stream(line)
        for await (const delta of stream) out(delta)
        result = await stream.result
        // A failed stream may have shown part of a reply: the fallback line replaces it.
        out(result.kind === 'reply' ? '\n' : `\r\x1b[K${npc.name}: ${result.text}\n`)
      } else {
        result = await convo.say(line)
        out(`${npc.name}: ${result.text}\n`)
      }
      if (result.unlocked.length) out(`[unlocked: ${result.unlocked.join(', ')}]\n`)
      if (result.error) io.stderr.write(`[model failed: ${result.error.code}${result.error.glmCode ? ` ${result.error.glmCode}` : ''}: ${result.error.message}]\n`)
      if (result.state === 'ended') break
    } catch (error) {
      out(`[${isParleyError(error) ? error.message : String(error)}]\n`)
      if (isParleyError(error) && error.code === 'conversation_ended') break
    }
    if (tty) out('> ')
  }
  rl.close()
  convo.stop()
  return 0
}
