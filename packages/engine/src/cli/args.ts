/**
 * Command-line arguments for one `parley` command. node:util's parseArgs does the parsing; this
 * turns its errors into a usage message that names the bad option and lists the good ones.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

export class UsageError extends Error {
  override name = 'UsageError'
}

type Options = NonNullable<ParseArgsConfig['options']>

export interface CommandArgs {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

export function commandArgs(command: string, args: string[], options: Options, usage: string): CommandArgs {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
    return { values: values as CommandArgs['values'], positionals }
  } catch (error) {
    const code = (error as { code?: string }).code
    const names = Object.entries(options).map(([name, o]) => `--${name}${o.type === 'string' ? ' VALUE' : ''}`)
    const known = names.length ? `options: ${names.join(', ')}` : `${command} takes no options`
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']+)'/.exec((error as Error).message)?.[1] ?? args.find((a) => a.startsWith('-')) ?? '?'
      throw new UsageError(`parley ${command}: unknown option ${option} (${known})\nusage: ${usage}`)
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`parley ${command}: ${(error as Error).message.replace(/^Option '(--?[\w-]+).*argument missing$/, '$1 needs a value')} (${known})\nusage: ${usage}`)
    }
    throw error
  }
}
