import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { parseNpc } from '../content/parse.ts'
import { issueClientToken, readClientToken } from './client-id.ts'
import { openSave, sealSave, SaveError } from './saves.ts'
import { KeyRing, matchesSecret, SigningConfigError } from './signing.ts'

const path = new URL('../../../../content/npcs/informant.yaml', import.meta.url)
const npc = parseNpc(readFileSync(path, 'utf8'), 'informant.yaml')
const ring = new KeyRing([{ id: 'k1', secret: 'a-signing-secret-that-is-long-enough-01' }])
const snapshot = { format: 'parley.conversation', version: 1, npc: 'informant', state: 'awaiting', history: [], items: { gold: 50 }, flags: [], unlocked: ['bandit_hideout'], said: [], fresh: [], turns: 0, failures: 0 } as const

const code = async (p: Promise<unknown>) => p.then(() => 'opened', (e: SaveError) => e.code)

describe('signed saves', () => {
  it('open to the snapshot that was sealed, for its NPC and player', async () => {
    const save = await sealSave(ring, { ...snapshot, items: { ...snapshot.items }, unlocked: [...snapshot.unlocked], history: [], flags: [], said: [], fresh: [] }, 'c:alice')
    expect(await openSave(ring, save, { npc, player: 'c:alice' })).toEqual(snapshot)
    expect(await openSave(ring, JSON.parse(JSON.stringify(save)), { npc })).toEqual(snapshot)
  })

  it('refuse, each with its own code: edits, other keys, other versions, other NPCs, other players, bare snapshots', async () => {
    const save = await sealSave(ring, structuredClone(snapshot) as never, 'c:alice')
    const other = new KeyRing([{ id: 'k1', secret: 'another-secret-with-the-same-key-id-0001' }])
    expect(await code(openSave(ring, { ...save, data: save.data.replace('50', '51') }, { npc }))).toBe('save_signature_invalid')
    expect(await code(openSave(ring, { ...save, player: 'c:mallory' }, { npc }))).toBe('save_signature_invalid')
    expect(await code(openSave(other, save, { npc }))).toBe('save_signature_invalid')
    expect(await code(openSave(ring, { ...save, version: 2 }, { npc }))).toBe('save_version_unknown')
    expect(await code(openSave(ring, { ...save, extra: 1 }, { npc }))).toBe('save_invalid')
    expect(await code(openSave(ring, save, { npc: { ...npc, id: 'harbor-master' } }))).toBe('save_wrong_npc')
    expect(await code(openSave(ring, save, { npc, player: 'c:mallory' }))).toBe('save_other_player')
    expect(await code(openSave(ring, snapshot, { npc }))).toBe('save_unsigned')
    expect(await code(openSave(ring, null, { npc }))).toBe('save_unsigned')
  })
})

describe('client tokens', () => {
  it('name their identity until they expire, and nothing once edited', async () => {
    const token = await issueClientToken(ring, 'p:玩家-42', 2_000)
    expect(await readClientToken(ring, token, 1_999_999)).toBe('p:玩家-42')
    expect(await readClientToken(ring, token, 2_000_000)).toBeUndefined()
    const [body, exp, kid, mac] = token.split('.')
    expect(await readClientToken(ring, [body, '9999999999', kid, mac].join('.'), 0)).toBeUndefined()
    expect(await readClientToken(ring, `${token}x`, 0)).toBeUndefined()
    expect(await readClientToken(ring, 'x'.repeat(5000), 0)).toBeUndefined()
    expect(exp).toBe('2000')
  })
})

describe('key rings and game keys', () => {
  it('refuse short secrets and malformed ids, and parse the environment form', () => {
    expect(() => new KeyRing([{ id: 'k1', secret: 'short' }])).toThrow(SigningConfigError)
    expect(() => new KeyRing([{ id: 'bad id', secret: 'x'.repeat(40) }])).toThrow(/must be 1 to 32/)
    expect(KeyRing.parse(`k2:${'b'.repeat(32)},k1:${'a'.repeat(32)}`).currentKeyId).toBe('k2')
    expect(KeyRing.parse('').ephemeral).toBe(true)
    expect(() => KeyRing.parse('no-colon')).toThrow(SigningConfigError)
  })

  it('a signature checked before is remembered, and still any other signature for that text is refused', async () => {
    const rotated = new KeyRing([
      { id: 'k2', secret: 'the-new-signing-secret-long-enough-0002' },
      { id: 'k1', secret: 'a-signing-secret-that-is-long-enough-01' },
    ])
    const old = await ring.sign('parley.client.v1', 'c:alice')
    const signed = await rotated.sign('parley.client.v1', 'c:alice')
    for (let i = 0; i < 3; i++) {
      expect(await rotated.verify('parley.client.v1', 'c:alice', signed)).toBe(true)
      expect(await rotated.verify('parley.client.v1', 'c:alice', old)).toBe(true)
      // The same mac under the other key id, a flipped character, another purpose, other text.
      expect(await rotated.verify('parley.client.v1', 'c:alice', signed.replace('k2.', 'k1.'))).toBe(false)
      expect(await rotated.verify('parley.client.v1', 'c:alice', signed.slice(0, -1) + (signed.endsWith('A') ? 'B' : 'A'))).toBe(false)
      expect(await rotated.verify('parley.save.v1', 'c:alice', signed)).toBe(false)
      expect(await rotated.verify('parley.client.v1', 'c:mallory', signed)).toBe(false)
    }
    expect(await ring.verify('parley.client.v1', 'c:alice', signed)).toBe(false)
  })

  it('signs with the very bytes Web Crypto computes (Node signs with its own crypto, browsers and workers with Web Crypto)', async () => {
    const secret = 'a-signing-secret-that-is-long-enough-01'
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    for (const data of ['c:alice', '', '玩家', 'x'.repeat(2000)]) {
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`parley.test\n${data}`)))
      expect(await ring.sign('parley.test', data)).toBe(`k1.${Buffer.from(mac).toString('base64url')}`)
    }
  })

  it('match a game key only whole', async () => {
    expect(await matchesSecret('key-one', ['key-zero', 'key-one'])).toBe(true)
    for (const guess of ['key-on', 'key-one ', '', 'KEY-ONE']) expect(await matchesSecret(guess, ['key-one'])).toBe(false)
  })
})
