/**
 * 20,000 cookie-less conversation creations against the handler, each carrying a 15 KB save, from
 * one address and then from many; prints what was answered and the heap before, at the peak and
 * after the TTL. Runs in its own process so the heap is this flood's alone.
 *   node --expose-gc --conditions=@parley/source --import tsx test/reliability/flood.ts
 */
import { scriptedProvider } from '@parley/engine'
import { createDialogueHandler } from '@parley/engine/http'
import { informant } from '../helpers/npcs.ts'
import { settledHeapBytes as heap } from '../helpers/settled-heap.ts'


let clock = 1_000_000
const IDLE_MS = 60_000
const handler = createDialogueHandler({
  npcs: [informant()],
  provider: scriptedProvider(),
  idleMs: IDLE_MS,
  maxLiveConversations: 2000,
  sweepEveryMs: 20,
  now: () => clock,
})

// A real 15 KB save: a conversation with long lines, taken by a player with a cookie.
const first = await handler(new Request('http://t/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"npc":"informant"}' }), { address: '198.51.100.1' })
const cookie = first.headers.get('set-cookie')!.split(';')[0]!
const { id } = (await first.json()) as { id: string }
for (let i = 0; i < 8; i++) {
  await handler(new Request(`http://t/api/conversations/${id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ text: `${i}`.repeat(1720) }) }), { address: '198.51.100.1' })
}
const save = await (await handler(new Request(`http://t/api/conversations/${id}/save`, { headers: { cookie } }))).text()
if (save.length < 14_000 || save.length > 16_000) throw new Error(`the save is ${save.length} bytes, not about 15 KB`)
clock += 2 * IDLE_MS
await new Promise((r) => setTimeout(r, 100))
const baseline = await heap()

const statuses: Record<string, Record<number, number>> = { oneAddress: {}, manyAddresses: {} }
let peak = 0
async function flood(label: 'oneAddress' | 'manyAddresses', count: number) {
  for (let i = 0; i < count; i++) {
    const address = label === 'oneAddress' ? '203.0.113.7' : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
    // Half start fresh, half replay the save (it is someone else's, so it is refused too).
    const body = i % 2 === 0 ? '{"npc":"informant"}' : `{"npc":"informant","save":${save}}`
    const r = await handler(new Request('http://t/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body }), { address })
    await r.arrayBuffer()
    statuses[label]![r.status] = (statuses[label]![r.status] ?? 0) + 1
    // A second of simulated time per 100 requests: the limits refill as they would.
    if (i % 100 === 99) clock += 1000
    if (i % 2000 === 1999) peak = Math.max(peak, process.memoryUsage().heapUsed)
  }
}
await flood('oneAddress', 10_000)
await flood('manyAddresses', 10_000)
peak = Math.max(peak, await heap())
const during = handler.stats()

// Past the TTL: the timers sweep the store, the live conversations and the rate-limit buckets.
clock += 2 * IDLE_MS + 60_000
await new Promise((r) => setTimeout(r, 300))
const after = await heap()
process.stdout.write(JSON.stringify({ statuses, during, after: handler.stats(), baselineMb: baseline / 2 ** 20, peakMb: peak / 2 ** 20, afterMb: after / 2 ** 20, growthMb: (after - baseline) / 2 ** 20 }))
await handler.close()
