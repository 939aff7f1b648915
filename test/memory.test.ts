import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MemoryConversationStore, MemoryKeeper, parseNpc, restoreConversation, scriptedProvider, type Npc, type Provider, type SummaryRequest } from '@parley/engine'
import { estimateTokens } from '@parley/engine/unstable'
import { ROOT } from './helpers/npcs.ts'

const path = `${ROOT}test/fixtures/memory/archivist.yaml`
const archivist = (edit: (yaml: string) => string = (y) => y): Npc => parseNpc(edit(readFileSync(path, 'utf8')), path)
const FACT = '地下库房的密码是七四一九'
const system = (messages: Array<{ role: string; content?: string | null }>) => messages.find((m) => m.role === 'system')!.content ?? ''

/** A provider whose summaries the test controls; replies are the scripted provider's. */
function summariser(summarize: (r: SummaryRequest) => Promise<{ text: string }>): Provider & { calls: SummaryRequest[] } {
  const calls: SummaryRequest[] = []
  return { ...scriptedProvider(), name: 'test', calls, summarize: (r) => (calls.push(r), summarize(r)) }
}

/** Deliberately the worst summariser: it copies every fact it saw, every entry verbatim. */
const copying = () => summariser(async (r) => ({ text: [r.previous ?? '', ...r.entries.map((e) => e.content)].filter(Boolean).join(' / ') }))

function setup(options: { provider?: Provider; limits?: ConstructorParameters<typeof MemoryKeeper>[0]['limits'] } = {}) {
  let clock = 1_000_000
  const store = new MemoryConversationStore({ sweepEveryMs: 0 })
  const errors: unknown[] = []
  const keeper = new MemoryKeeper({ store, now: () => clock, limits: { retryDelayMs: 1000, ...options.limits }, onError: (e) => errors.push(e) })
  const provider = options.provider ?? scriptedProvider()
  const open = (player: string, npc = archivist()) => keeper.open(npc, player, { provider })
  /** A conversation in which the player gives the seal and hears the vault code, ended and its memory written. */
  const tellSecret = async (player: string) => {
    const told = await open(player)
    told.give('seal')
    const reply = await told.say('密码呢')
    told.end()
    await keeper.settled()
    return reply
  }
  return { store, keeper, provider, errors, tick: (ms: number) => (clock += ms), open, tellSecret }
}

describe('memory across conversations (in process)', () => {
  it('a memory written when a conversation ends is in the next conversation with the same player and NPC, marked as memory, and in no other player’s', async () => {
    const { keeper, open } = setup()
    const first = await open('player-a')
    expect(first.returning).toBe(false)
    await first.say('我叫林小雨，在找我父亲的档案')
    const bye = await first.say('再见')
    expect(bye.kind).toBe('farewell')
    await keeper.settled()

    const again = await open('player-a')
    expect(again.returning).toBe(true)
    const sent = system(again.messages('还记得我吗'))
    expect(sent).toContain('【你对这个玩家的记忆（来自你们以前的谈话）】')
    expect(sent).toContain('林小雨')
    await again.say('还记得我吗')
    expect(system(again.lastRequest()!)).toContain('林小雨')
    expect(again.explain().memories).toEqual([{ text: expect.stringContaining('林小雨'), secrets: [], carried: true }])

    const stranger = await open('player-b')
    expect(stranger.returning).toBe(false)
    await stranger.say('你好')
    expect(JSON.stringify(stranger.lastRequest())).not.toContain('林小雨')
    expect(stranger.explain().memories).toBeUndefined()
  })

  it('the record carries what the player earned: unlocks and variables; gifts stay with their conversation', async () => {
    const { keeper, open } = setup()
    const first = await open('player-a')
    first.give('seal')
    first.setVar('trust', 4)
    await first.say('印章给你了')
    first.end()
    await keeper.settled()
    const record = await keeper.read('player-a', 'archivist')
    expect(record).toMatchObject({ unlocked: ['vault_code'], vars: { trust: 4 }, conversations: 1 })
    const again = await open('player-a')
    expect(again.unlocked()).toEqual(['vault_code'])
    expect(again.vars()).toEqual({ trust: 4 })
    expect(again.items()).toEqual({})
    expect(system(again.messages())).toContain(FACT)
  })

  it('the end answers at once and the next conversation never waits: a slow summary leaves it without the memory until written', async () => {
    let release!: (text: string) => void
    const provider = summariser(() => new Promise((r) => (release = (text) => r({ text }))))
    const { keeper, open } = setup({ provider })
    const first = await open('player-a')
    await first.say('我叫林小雨')
    expect(first.end().kind).toBe('farewell')
    await new Promise((r) => setTimeout(r, 20))
    expect(provider.calls).toHaveLength(1)
    const meanwhile = await open('player-a')
    expect(meanwhile.returning).toBe(false)
    expect((await meanwhile.say('在吗')).kind).toBe('reply')
    release('玩家叫林小雨。')
    await keeper.settled()
    const later = await open('player-a')
    expect(system(later.messages())).toContain('玩家叫林小雨。')
  })

  it('a failed summary costs nothing: turns are answered, unlocks kept, the summary retried later, and once attempts are spent the player’s lines are kept by the engine', async () => {
    const provider = summariser(async () => {
      throw new Error('model down')
    })
    const { keeper, open, tick, errors } = setup({ provider })
    const first = await open('player-a')
    expect((await first.say('我叫林小雨')).kind).toBe('reply')
    first.give('seal')
    first.end()
    await keeper.settled()
    expect(provider.calls).toHaveLength(1)
    let record = await keeper.read('player-a', 'archivist')
    expect(record).toMatchObject({ unlocked: ['vault_code'], memories: [], pending: [{ attempts: 1 }] })
    expect(errors.length).toBeGreaterThan(0)

    keeper.retryDue()
    await keeper.settled()
    expect(provider.calls).toHaveLength(1) // not due yet

    tick(1000)
    keeper.retryDue()
    await keeper.settled()
    expect(provider.calls).toHaveLength(2)
    tick(2000)
    keeper.retryDue()
    await keeper.settled()
    expect(provider.calls).toHaveLength(3)
    record = await keeper.read('player-a', 'archivist')
    expect(record!.pending).toEqual([])
    expect(record!.memories).toEqual([expect.objectContaining({ by: 'fallback', text: expect.stringContaining('林小雨'), secrets: ['vault_code'] })])
    tick(100_000)
    keeper.retryDue()
    await keeper.settled()
    expect(provider.calls).toHaveLength(3) // bounded: nothing left to retry
  })

  it('a summary slower than its deadline is abandoned and retried, and the next one is written', async () => {
    let slow = true
    const provider = summariser((r) => (slow ? new Promise(() => {}) : Promise.resolve({ text: `记得：${r.entries[0]!.content}` })))
    const { keeper, open, tick } = setup({ provider, limits: { summaryTimeoutMs: 50 } })
    const first = await open('player-a')
    await first.say('我叫林小雨')
    first.end()
    await keeper.settled()
    expect((await keeper.read('player-a', 'archivist'))!.pending).toMatchObject([{ attempts: 1 }])
    slow = false
    tick(1000)
    keeper.retryDue()
    await keeper.settled()
    expect((await keeper.read('player-a', 'archivist'))!.memories.map((m) => m.text)).toEqual(['记得：我叫林小雨'])
  })

  it('no memory carries a fact past a lock, even from a summariser that copies every fact it saw', async () => {
    const provider = copying()
    const { keeper, open, tellSecret } = setup({ provider })
    // Before the seal: a memory written with nothing unlocked.
    const before = await open('player-a')
    await before.say('我叫林小雨')
    before.end()
    await keeper.settled()
    // With the seal: the NPC tells the fact, and the copying summariser keeps it verbatim.
    expect((await tellSecret('player-a')).text).toContain(FACT)
    const record = await keeper.read('player-a', 'archivist')
    expect(record!.memories.map((m) => m.secrets)).toEqual([[], ['vault_code']])
    expect(record!.memories[1]!.text).toContain(FACT)

    // The game resets what the archivist has told (a new chapter): the unlock is gone from the record.
    await keeper.update('player-a', 'archivist', (r) => ({ ...r, unlocked: [] }))
    const after = await open('player-a')
    expect(after.unlocked()).toEqual([])
    await after.say('你还记得什么')
    const everything = JSON.stringify([after.lastRequest(), after.messages(), after.snapshot(), after.explain()])
    expect(everything).not.toContain('七四一九')
    expect(system(after.lastRequest()!)).toContain('林小雨')
    expect(after.explain().memories).toEqual([
      { text: expect.stringContaining('林小雨'), secrets: [], carried: true },
      { text: '•••', secrets: ['vault_code'], carried: false },
    ])
    // Unlocked again in that conversation, the held-back memory stays held back (it was never sent) …
    after.give('seal')
    expect(JSON.stringify(after.messages('嗯'))).not.toContain('密码呢')
    after.end()
    await keeper.settled()
    // … and the next conversation, with the seal given, carries it again.
    const next = await open('player-a')
    expect(next.unlocked()).toEqual(['vault_code'])
    expect(system(next.messages())).toContain(FACT)
  })

  it('an NPC file that drops the secret holds back every memory written under it', async () => {
    const provider = copying()
    const { keeper, open, tellSecret } = setup({ provider })
    await tellSecret('player-a')
    const renamed = archivist((y) => y.replace('id: vault_code', 'id: vault_code_v2'))
    const after = await open('player-a', renamed)
    expect(JSON.stringify([after.messages('x'), after.snapshot()])).not.toContain('七四一九')
    expect(after.explain().memories).toEqual([{ text: '•••', secrets: ['vault_code'], carried: false }])
  })

  it('memories are limited in number and tokens: the oldest are merged by the summariser', async () => {
    const provider = summariser(async (r) => ({ text: r.previous ? `合并：${r.previous}`.slice(0, 60) : `第${r.entries[0]!.content}次` }))
    const { keeper, open } = setup({ provider, limits: { maxMemories: 2, memoryTokens: 40 } })
    for (let i = 1; i <= 4; i++) {
      const c = await open('player-a')
      await c.say(String(i))
      c.end()
      await keeper.settled()
    }
    const record = await keeper.read('player-a', 'archivist')
    expect(record!.memories).toHaveLength(2)
    expect(record!.memories[1]!.text).toBe('第4次')
    expect(record!.memories[0]!.text).toContain('合并')
    expect(record!.memories[0]!.sources).toHaveLength(3)
    for (const m of record!.memories) expect(estimateTokens(m.text)).toBeLessThanOrEqual(40)
    expect(provider.calls.filter((c) => c.purpose === 'memory' && c.previous)).toHaveLength(2)
  })

  it('the system message carries memories within its budget, the newest first', async () => {
    const provider = summariser(async (r) => ({ text: `记忆${r.entries[0]!.content}`.padEnd(30, '。') }))
    const { keeper, open } = setup({ provider, limits: { promptTokens: 50 } })
    for (const n of ['一', '二', '三']) {
      const c = await open('player-a')
      await c.say(n)
      c.end()
      await keeper.settled()
    }
    const s = system((await open('player-a')).messages())
    expect(s).toContain('记忆三')
    expect(s).not.toContain('记忆一')
  })

  it('the player’s new game: the record is emptied, and a conversation started before it is not remembered when it ends', async () => {
    const { keeper, open, tick } = setup()
    const first = await open('player-a')
    await first.say('我叫林小雨')
    first.give('seal')
    first.end()
    await keeper.settled()
    const lingering = await open('player-a')
    await lingering.say('我是旧存档的人')
    tick(10)
    await keeper.newGame('player-a', ['archivist'])
    lingering.end()
    await keeper.settled()
    const fresh = await open('player-a')
    expect(fresh.returning).toBe(false)
    expect(fresh.unlocked()).toEqual([])
    expect(JSON.stringify(fresh.messages('x'))).not.toMatch(/林小雨|旧存档/)
  })

  it('the game forgets a player: the record is deleted', async () => {
    const { keeper, open } = setup()
    for (const player of ['player-a', 'player-b']) {
      const c = await open(player)
      await c.say('我来过')
      c.end()
    }
    await keeper.settled()
    expect(await keeper.forget('player-a')).toBe(1)
    expect(await keeper.read('player-a', 'archivist')).toBeUndefined()
    expect(await keeper.read('player-b', 'archivist')).toBeDefined()
  })

  it('a save keeps the memories a conversation carries, and restores them only where their secrets are still unlocked; older saves restore without any', async () => {
    const provider = copying()
    const { keeper, open, tellSecret } = setup({ provider })
    await tellSecret('player-a')
    const carried = await open('player-a')
    const save = carried.snapshot()
    expect(save.memories).toEqual([{ text: expect.stringContaining(FACT), secrets: ['vault_code'] }])
    const restored = restoreConversation(archivist(), JSON.parse(JSON.stringify(save)), { provider })
    expect(system(restored.messages())).toContain(FACT)
    expect(restored.greeting).toBe(archivist().greeting) // the archivist has no welcome_back line
    // The designer renamed the secret: the restored save holds the memory back, text and all.
    const renamed = restoreConversation(archivist((y) => y.replace('id: vault_code', 'id: vault_code_v2')), save, { provider })
    expect(JSON.stringify([renamed.messages('x'), renamed.snapshot()])).not.toContain('七四一九')
    expect(renamed.explain().memories).toEqual([{ text: '•••', secrets: ['vault_code'], carried: false }])
    const { memories: _, ...before } = save
    expect(restoreConversation(archivist(), { ...before, version: 1 }, { provider }).explain().memories).toBeUndefined()
  })

  it('a conversation restored from a save is remembered when it ends, once watched', async () => {
    const { keeper, open, provider } = setup()
    const first = await open('player-a')
    await first.say('我叫林小雨')
    const save = first.snapshot()
    first.stop()
    const restored = restoreConversation(archivist(), save, { provider })
    keeper.watch(restored, 'player-a')
    await restored.say('我又来了')
    restored.end()
    await keeper.settled()
    expect((await keeper.read('player-a', 'archivist'))!.memories.map((m) => m.text)).toEqual([expect.stringMatching(/林小雨.*我又来了/)])
  })

  it('an older copy of a conversation (a server whose copy went stale) never replaces the memory of a newer one', async () => {
    const { keeper } = setup({ provider: summariser(async (r) => ({ text: r.entries.map((e) => e.content).join('/') })) })
    const npc = archivist()
    const facts = (lines: string[], version: number) => ({ source: 'c1', startedAt: 0, history: lines.flatMap((l) => [{ role: 'user' as const, content: l }, { role: 'assistant' as const, content: '嗯' }]), unlocked: [], vars: { trust: 0 }, varsVersion: 'x', version })
    keeper.remember(npc, 'player-a', facts(['一', '二', '三'], 3), { provider: scriptedProvider() })
    await keeper.settled()
    keeper.remember(npc, 'player-a', facts(['一'], 2), { provider: scriptedProvider() })
    await keeper.settled()
    const record = await keeper.read('player-a', 'archivist')
    expect(record!.memories).toHaveLength(1)
    expect(record!.memories[0]!.text).toContain('三')
    expect(record!.conversations).toBe(1)
  })

  it('a conversation where nothing was said and nothing earned leaves no record', async () => {
    const { keeper, open } = setup()
    ;(await open('player-a')).end()
    await keeper.settled()
    expect(await keeper.read('player-a', 'archivist')).toBeUndefined()
  })

  it('a record that is not one this engine wrote is never overwritten, and the conversation starts without it', async () => {
    const { store, keeper, open, errors } = setup()
    await store.putRecord({ player: 'player-a', npc: 'archivist' }, { format: 'someone else' }, 0)
    const c = await open('player-a')
    expect(c.returning).toBe(false)
    await c.say('你好')
    c.end()
    await keeper.settled()
    expect((await store.getRecord({ player: 'player-a', npc: 'archivist' }))!.record).toEqual({ format: 'someone else' })
    expect(errors.some((e) => (e as { code?: string }).code === 'record_invalid')).toBe(true)
  })
})
