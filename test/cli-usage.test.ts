import { describe, expect, it } from 'vitest'
import { cliInProcess } from './helpers/parley-cli.ts'

const cli = cliInProcess

describe('the CLI tells a writer what went wrong with a command', () => {
  it('an unknown option names itself and lists the options, with exit 2', async () => {
    expect(await cli(['lint', '--bogus'])).toEqual({ code: 2, stdout: '', stderr: 'parley lint: unknown option --bogus (options: --root VALUE)\nusage: parley lint [--root DIR] [paths…]\n' })
    expect(await cli(['chat', 'informant', '--bogus'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'parley chat: unknown option --bogus (options: --provider VALUE, --dir VALUE)\nusage: parley chat <npc-file-or-id> [--provider glm|scripted] [--dir content/npcs]\n',
    })
    expect((await cli(['chat', 'informant', '--provider'])).stderr).toBe(
      'parley chat: --provider needs a value (options: --provider VALUE, --dir VALUE)\nusage: parley chat <npc-file-or-id> [--provider glm|scripted] [--dir content/npcs]\n',
    )
    expect(await cli(['schema', '-x'])).toEqual({ code: 2, stdout: '', stderr: 'parley schema: unknown option -x (options: --scenario)\nusage: parley schema [--scenario] > content/npc.schema.json\n' })
  })

  it('/give with a count that is not a whole number says so, and gives nothing', async () => {
    const r = await cli(['chat', 'informant'], '/give gold abc\n/give gold 0\n/give gold 2.5\n/give\n/state\n')
    expect(r.code).toBe(0)
    const said = r.stdout.split('\n').filter((l) => l.startsWith('['))
    expect(said.slice(1, 5)).toEqual([
      '[the count must be a whole number of 1 or more, like /give gold 3, not "abc"]',
      '[the count must be a whole number of 1 or more, like /give gold 3, not "0"]',
      '[the count must be a whole number of 1 or more, like /give gold 3, not "2.5"]',
      '[/give needs an item: /give ITEM [COUNT]; 透子的线人 takes red_gem, gold]',
    ])
    expect(r.stdout).toContain('items {}')
    expect(r.stdout).not.toContain('NaN')
  })

  it('/var sets a variable as the game would, and refuses what setVar refuses', async () => {
    const r = await cli(['chat', 'test/fixtures/vars/confidant.yaml'], '/var trust 5\n/var trust 99\n/var mood angry\n/var mood 3\n/var trsut 1\n/var trust\n/state\n')
    expect(r.code).toBe(0)
    const said = r.stdout.split('\n').filter((l) => l.startsWith('['))
    expect(said.slice(1, 7)).toEqual([
      '[trust = 5] [unlocked: back_door]',
      '[trust is at most 10, got 99]',
      '[mood = angry]',
      '[mood is one of calm, angry, got "3"]',
      '[confidant declares no variable "trsut"; declared: trust, warmth, mood]',
      '[/var needs a name and a value: /var NAME VALUE; Confidant has trust, warmth, mood]',
    ])
    expect(r.stdout).toContain('vars trust=5, warmth=0, mood=angry')
  })
})
