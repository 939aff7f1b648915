import type { Npc } from '@parley/engine'

function windows(text: string, size: number): string[] {
  const chars = Array.from(text.replace(/\s+/g, ''))
  const out: string[] = []
  for (let i = 0; i + size <= chars.length; i++) out.push(chars.slice(i, i + size).join(''))
  return out
}

/** Text of the NPC that may legitimately be sent to the model while every secret is locked. */
function publicText(npc: Npc): string {
  return [
    npc.persona,
    npc.greeting ?? '',
    ...Object.values(npc.lines),
    ...npc.examples.flatMap((e) => [e.player, e.npc]),
    ...npc.secrets.map((s) => s.locked_hint ?? ''),
    ...Object.values(npc.items).map((i) => i.name),
    ...Object.values(npc.flags ?? {}).map((f) => f?.note ?? ''),
    ...(npc.lore?.sources ?? []).filter((l) => !l.unlock).map((l) => l.text ?? ''),
  ]
    .join('\n')
    .replace(/\s+/g, '')
}

/**
 * What must never appear in a request while `secret` is locked: its fact, its unlock
 * instruction, its reveal line, and every 6-character run of the fact that the NPC's public
 * text and the player's own words do not also contain (a player may guess words; the engine
 * must not supply them).
 */
export function forbiddenFragments(npc: Npc, secretId: string, playerLines: readonly string[]): string[] {
  const secret = npc.secrets.find((s) => s.id === secretId)!
  const allowed = publicText(npc) + playerLines.join('\n').replace(/\s+/g, '')
  const whole = [secret.fact, secret.on_unlock, secret.reveal].filter((s): s is string => !!s)
  return [...whole, ...windows(secret.fact, 6).filter((w) => !allowed.includes(w))]
}

/** The same for a gated lore entry: its text must not leave the engine while it is locked. */
export function forbiddenLore(npc: Npc, sourceIndex: number, playerLines: readonly string[]): string[] {
  const text = npc.lore!.sources[sourceIndex]!.text!
  const allowed = publicText(npc) + playerLines.join('\n').replace(/\s+/g, '')
  return [text, ...windows(text, 6).filter((w) => !allowed.includes(w))]
}

/** The leaked fragments found in raw request bodies (decoded too, in case of \u escapes). */
export function findLeaks(raws: readonly string[], fragments: readonly string[]): string[] {
  const found = new Set<string>()
  for (const raw of raws) {
    let decoded = raw
    try {
      decoded = JSON.stringify(JSON.parse(raw), null, 0).normalize('NFKC')
    } catch {
      // raw alone
    }
    const flat = (raw + '\n' + JSON.parse(JSON.stringify(decoded))).replace(/\s+/g, '')
    for (const f of fragments) if (flat.includes(f.replace(/\s+/g, ''))) found.add(f)
  }
  return [...found]
}
