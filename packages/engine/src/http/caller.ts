/**
 * Who is calling. The *game* is the studio's own server: it presents a game key as
 * `Authorization: Bearer …` (compared in constant time) and may name the player it acts for
 * (`x-parley-player: <account id>`, or the player's own token). Everyone else is a *player*,
 * known by a token the server signed (a cookie for browsers, `x-parley-client` for game clients
 * holding a player token); a player without a valid token gets a new anonymous identity.
 */
import { ACCOUNT_ID, gamePlayerIdentity, newBrowserIdentity, presentedToken, readClientToken } from './client-id.ts'
import { HttpProblem } from './problem.ts'
import { matchesSecret, type KeyRing } from './signing.ts'

export type Caller =
  /** `player` is the identity the game acts for, if it named one. */
  | { kind: 'game'; player: string | undefined }
  /** `fresh`: the identity was made for this request; the response must hand its token over. */
  | { kind: 'player'; player: string; fresh: boolean }

export interface CallerSettings {
  gameKeys: readonly string[]
  ring: KeyRing
  now: () => number
}

export async function identifyCaller(request: Request, s: CallerSettings): Promise<Caller> {
  const authorization = request.headers.get('authorization')
  if (authorization !== null) {
    if (s.gameKeys.length === 0) throw new HttpProblem(401, 'game_routes_off', 'this server has no game key configured, so it takes no game calls', { 'www-authenticate': 'Bearer' })
    const key = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization)?.[1]
    if (!key || !(await matchesSecret(key, s.gameKeys))) throw new HttpProblem(401, 'game_key_invalid', 'the game key is not one this server accepts', { 'www-authenticate': 'Bearer error="invalid_token"' })
    return { kind: 'game', player: await namedPlayer(request, s) }
  }
  if (request.headers.has('x-parley-player')) throw new HttpProblem(401, 'game_key_required', 'only the game may name a player (x-parley-player); send the game key', { 'www-authenticate': 'Bearer' })
  const player = await readClientToken(s.ring, presentedToken(request), s.now())
  return player ? { kind: 'player', player, fresh: false } : { kind: 'player', player: newBrowserIdentity(), fresh: true }
}

async function namedPlayer(request: Request, s: CallerSettings): Promise<string | undefined> {
  const account = request.headers.get('x-parley-player')
  if (account !== null) {
    if (!ACCOUNT_ID.test(account)) throw new HttpProblem(400, 'invalid_player', 'x-parley-player is 1 to 128 of A-Z a-z 0-9 _ . : @ + -')
    return gamePlayerIdentity(account)
  }
  const token = presentedToken(request)
  if (token === undefined) return undefined
  const player = await readClientToken(s.ring, token, s.now())
  if (!player) throw new HttpProblem(400, 'invalid_player', 'the player token the game passed on does not verify (or has expired)')
  return player
}

/** Game-only routes: off (404) without a configured game key, 401 for a player. */
export function requireGame(caller: Caller, gameKeys: readonly string[], what: string): asserts caller is Extract<Caller, { kind: 'game' }> {
  if (caller.kind === 'game') return
  if (gameKeys.length === 0) throw new HttpProblem(404, 'game_routes_off', `${what} is for the game's server, and this server has no game key configured`)
  throw new HttpProblem(401, 'game_key_required', `${what} is for the game's server only (Authorization: Bearer <game key>)`, { 'www-authenticate': 'Bearer' })
}
