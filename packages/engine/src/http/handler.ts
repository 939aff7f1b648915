/**
 * The engine over HTTP, web-standard only (`Request` in, `Response` out), so the same handler runs
 * in Node, Deno, Bun, workers, or in-process in tests. This file checks what every request must
 * pass before any route (web hygiene, who is calling), hands it to the routes (app.ts, each route
 * under routes/ with its schemas), and gives a new browser its signed id on the way out.
 *
 * Two kinds of caller: players (browsers and game clients, known by a server-signed token) start
 * conversations, talk, read their own view and keep signed saves; the game (its own server, with
 * a game key) also gives items, sets flags, ends conversations, restores unsigned saves, reads
 * any conversation and its inspector view. Without a game key the game routes are off.
 */
import type { Npc } from '../content/schema.ts'
import type { ConversationOptions } from '../conversation/conversation.ts'
import type { Provider } from '../providers/types.ts'
import { MemoryConversationStore } from '../store/memory.ts'
import { MemoryKeeper, type MemoryErrorContext } from '../memory/keeper.ts'
import type { MemoryLimits } from '../memory/limits.ts'
import { ANONYMOUS_PLAYER_LIFETIME_MS, type ConversationStore } from '../store/types.ts'
import { buildApp, problemResponse } from './app.ts'
import { identifyCaller, type Caller } from './caller.ts'
import { clientCookie, issueClientToken } from './client-id.ts'
import { HandlerSettings } from './config.ts'
import { RequestLimits } from './limits.ts'
import { LiveConversations } from './live-cache.ts'
import { HttpProblem } from './problem.ts'
import { ConversationService } from './service.ts'
import { KeyRing, type SigningKey } from './signing.ts'
import { checkHost, checkStateChange, clientAddress, isHttps, type AllowedHosts } from './web-guard.ts'

export interface DialogueHandlerOptions {
  npcs: readonly Npc[]
  provider: Provider | ((npc: Npc) => Provider)
  /** Embeddings for NPCs whose lore asks for them; without, lore is retrieved with BM25. */
  lore?: ConversationOptions['lore']
  /**
   * How actions the NPC takes are decided. A server is the game's authority: by default it carries
   * out every action the NPC file offers (the engine has already checked the offer and arguments).
   */
  actions?: ConversationOptions['actions']
  /** Path prefix the handler is mounted under. Default `/api`. */
  basePath?: string
  /** Largest request body accepted. Default 16 KB. */
  maxBodyBytes?: number
  /** A request body still arriving after this is abandoned with 408. Default 10 s. */
  bodyTimeoutMs?: number
  /** Conversations untouched this long are dropped. Default 30 minutes. */
  idleMs?: number
  /** Turns per player per minute. Default 60. */
  ratePerMinute?: number
  /** Turns per client address per minute. Default 600. */
  addressRatePerMinute?: number
  /** New conversations per player per minute. Default 10. */
  createPerMinute?: number
  /** New conversations per client address per minute. Default 30. */
  addressCreatePerMinute?: number
  /**
   * Most conversations this process keeps live. Past it, the least recently used leave memory
   * (a shared store such as Redis keeps them); a store in this process's memory refuses new ones
   * with 503 and Retry-After instead. Default 10,000.
   */
  maxLiveConversations?: number
  /**
   * Where conversations live between requests. Default: in this process's memory. Give a
   * `RedisConversationStore` (`@parley/engine/redis`) to serve one conversation from any server.
   */
  store?: ConversationStore
  /**
   * Game keys accepted as `Authorization: Bearer …` (several while rotating). Without one, the
   * game routes (items, flags, end, unsigned restores, inspector, player tokens) are off.
   */
  gameKeys?: readonly string[]
  /**
   * Keys that sign saves and player tokens; the first signs, all verify. Servers behind one game
   * share them. Without, a key is made for this process (`handler.ephemeralSigningKey`), and saves
   * and browser ids do not survive a restart.
   */
  signingKeys?: readonly SigningKey[] | KeyRing
  /**
   * Show players the inspector view (flags, every secret's condition with passphrases masked, the
   * last request's messages and lore) in their own conversation's answers. For a demo that is its
   * own game; off by default.
   */
  inspectorForPlayers?: boolean
  /** Origins allowed on state-changing requests that carry an `Origin`. Default: the request's own. */
  allowedOrigins?: readonly string[]
  /** Host names served. A server bound to loopback should say `'loopback'`. Default `'any'`. */
  allowedHosts?: AllowedHosts
  /** How many proxies in front of this server to trust for `X-Forwarded-For` / `-Proto`. Default 0: none. */
  trustProxy?: number
  /** Saves restore only for the player who took them (the game may restore any). Default true. */
  bindSavesToPlayer?: boolean
  /**
   * Memory across conversations: a player's conversation with an NPC starts from the NPC's record
   * of them (memories, unlocks, variables), and each one that ends (or that this server lets go
   * idle) is summarised into a memory in the background. Needs a store that keeps records (the
   * default, or Redis). Summaries cost one model call per conversation (and one per merge). Off by default.
   */
  memory?: boolean | { limits?: Partial<MemoryLimits> | undefined; onError?: ((error: unknown, where: MemoryErrorContext) => void) | undefined } | undefined
  /** How often idle conversations and spent rate-limit buckets are swept. Default one minute. */
  sweepEveryMs?: number
  now?: () => number
}

/** What the server adapter knows that a `Request` does not. */
export interface RequestContext {
  /** The peer's socket address, for per-address limits. Without it, every caller shares one address bucket. */
  address?: string | undefined
}

export interface DialogueHandler {
  (request: Request, context?: RequestContext): Promise<Response>
  /** True when no signing key was configured and one was made for this process. */
  readonly ephemeralSigningKey: boolean
  /** Live conversations, rate-limit buckets and stored conversations held now. */
  stats(): { live: number; limiterBuckets: number; stored: number | null }
  /** Resolves once the memories being written in the background are written (or given up). */
  settled(): Promise<void>
  /** Stops the sweep timer (and the store's, if the handler made it), after writing the memories of the conversations it holds. */
  close(): Promise<void>
}

// An anonymous browser's memory records live as long as its cookie (store/types.ts), so both use one lifetime.
const BROWSER_TOKEN_SECONDS = ANONYMOUS_PLAYER_LIFETIME_MS / 1000

export function createDialogueHandler(options: DialogueHandlerOptions): DialogueHandler {
  const config = new HandlerSettings(options)
  const base = (options.basePath ?? '/api').replace(/\/$/, '')
  const now = options.now ?? Date.now
  const gameKeys = [...(options.gameKeys ?? [])].filter((k) => k.length > 0)
  const ring = options.signingKeys instanceof KeyRing ? options.signingKeys : options.signingKeys?.length ? new KeyRing(options.signingKeys) : KeyRing.ephemeral()
  const limits = new RequestLimits(config.limits, now)
  const npcs = new Map(options.npcs.map((n) => [n.id, n]))
  const ownStore = options.store ? undefined : new MemoryConversationStore({ ttlMs: config.idleMs, now, sweepEveryMs: config.sweepEveryMs })
  const store: ConversationStore = options.store ?? ownStore!
  const live = new LiveConversations(config.maxLive, now)
  const providerFor = (npc: Npc) => (typeof options.provider === 'function' ? options.provider(npc) : options.provider)
  const trustProxy = options.trustProxy ?? 0
  const allowedHosts = options.allowedHosts ?? 'any'
  const memory = options.memory === true ? {} : options.memory || undefined
  const keeper = memory && new MemoryKeeper({ store, provider: providerFor, limits: memory.limits, now, onError: memory.onError })
  const service = new ConversationService({
    npcs, providerFor, lore: options.lore, actions: options.actions, store, live, ring, config,
    inspectorForPlayers: options.inspectorForPlayers === true, bindSaves: options.bindSavesToPlayer ?? true, keeper, now,
  })
  const app = buildApp(base, { service, limits, config, gameKeys, ring, npcs, providerFor, now, keeper })

  const timer = setInterval(() => {
    limits.sweep()
    live.sweep(config.idleMs, (l) => void service.letGo(l))
    keeper?.retryDue()
  }, config.sweepEveryMs)
  ;(timer as { unref?: () => void }).unref?.()

  const handler = async (request: Request, context: RequestContext = {}): Promise<Response> => {
    let caller: Caller | undefined
    let response: Response
    try {
      const refused = checkHost(request, allowedHosts) ?? checkStateChange(request, { allowedOrigins: options.allowedOrigins, trustProxy })
      if (refused) throw new HttpProblem(refused.status, refused.code, refused.message)
      caller = await identifyCaller(request, { gameKeys, ring, now })
      response = await app.fetch(request, { caller, address: clientAddress(request, context.address, trustProxy) })
    } catch (error) {
      response = problemResponse(error)
    }
    // Answers are per caller and per moment: no cache may keep one (the stream says no-cache itself).
    if (!response.headers.has('cache-control')) response.headers.set('cache-control', 'no-store')
    if (caller?.kind === 'player' && caller.fresh) {
      const token = await issueClientToken(ring, caller.player, Math.floor(now() / 1000) + BROWSER_TOKEN_SECONDS)
      response.headers.append('set-cookie', clientCookie(token, BROWSER_TOKEN_SECONDS, isHttps(request, trustProxy)))
    }
    return response
  }

  return Object.assign(handler, {
    ephemeralSigningKey: ring.ephemeral,
    stats: () => ({ live: live.size, limiterBuckets: limits.size, stored: store.size?.() ?? null }),
    settled: async () => {
      await keeper?.settled()
    },
    close: async () => {
      clearInterval(timer)
      // A server going away is the last to hold its live conversations: it writes their memories.
      if (keeper) await Promise.all(live.all().map((l) => service.letGo(l).catch(() => {})))
      await keeper?.settled()
      live.clear()
      await ownStore?.close()
    },
  })
}
