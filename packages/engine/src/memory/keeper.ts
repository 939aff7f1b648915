/**
 * The memory keeper: opens a conversation from the NPC's record of the player, and once it ends
 * writes what it earned into the record, then asks the provider for a memory of it, in the
 * background. Nothing here is on the player's critical path: a store or model that fails or is
 * slow costs the conversation nothing (it starts without the record, or without the newest
 * memory), and a failed summary is retried a bounded number of times, then written by the engine
 * itself from the player's lines, so nothing said is lost. Work on one record runs one job at a
 * time in this process; across servers, compare-and-set keeps every write whole.
 */
import type { Npc } from '../content/schema.ts'
import { Conversation, type ConversationOptions } from '../conversation/conversation.ts'
import type { ConversationData } from '../conversation/state.ts'
import { ParleyError } from '../errors.ts'
import { clipToTokens } from '../prompt/summary.ts'
import type { Provider } from '../providers/types.ts'
import { keepsRecords, type ConversationStore, type RecordStore } from '../store/types.ts'
import { varsVersion } from '../vars/values.ts'
import { startFromRecord } from './carry.ts'
import { NO_SLOT, SummarySlots } from './slots.ts'
import { memoryLimits, type MemoryLimits } from './limits.ts'
import { emptyRecord, parseRecord, type MemoryRecord } from './record.ts'
import { mergeCandidates, mergedFallback, MERGE_SEPARATOR, withFailure, withPostponed, withFinished, withMerged, withWritten, type FinishedConversation } from './write.ts'

export interface MemoryKeeperOptions {
  /** Where records live: `MemoryConversationStore` or `RedisConversationStore` (any store with the record methods). */
  store: ConversationStore
  /** Who writes memories (`summarize`, purpose `memory`). Default: the provider of the conversation remembered. */
  provider?: Provider | ((npc: Npc) => Provider) | undefined
  limits?: Partial<MemoryLimits> | undefined
  now?: () => number
  /** Told of each record that could not be read or written, and each failed summary; the conversations go on regardless. */
  onError?: ((error: unknown, where: MemoryErrorContext) => void) | undefined
}

export interface MemoryErrorContext {
  player: string
  npc: string
  stage: 'read' | 'write' | 'summarize'
}

/** Who asks for the summary of a conversation, and for whom (GLM's `user_id`). */
export interface RememberOptions {
  provider?: Provider | undefined
  userId?: string | undefined
}

/** A keeper's conversation: started from the record; its memory is written when it ends. */
export interface RememberedConversation extends Conversation {
  /** True when the NPC carried memories of this player into it. */
  readonly returning: boolean
}

interface Due {
  npc: Npc
  player: string
  remember: RememberOptions
}

const CHANGE_TRIES = 8
const DRAIN_STEPS = 16
const MAX_DUE = 10_000

export class MemoryKeeper {
  readonly limits: MemoryLimits
  readonly #store: ConversationStore & RecordStore
  readonly #provider: MemoryKeeperOptions['provider']
  readonly #now: () => number
  readonly #onError: NonNullable<MemoryKeeperOptions['onError']>
  readonly #jobs = new Map<string, Promise<void>>()
  /** Records with a summary still to retry, as this process last saw them. */
  readonly #due = new Map<string, Due>()
  readonly #slots: SummarySlots

  constructor(options: MemoryKeeperOptions) {
    if (!keepsRecords(options.store)) throw new ParleyError('invalid_argument', 'this conversation store keeps no memory records (getRecord, putRecord, deleteRecords); use MemoryConversationStore or RedisConversationStore')
    this.#store = options.store
    this.#provider = options.provider
    this.limits = memoryLimits(options.limits)
    this.#slots = new SummarySlots(this.limits.summaryConcurrency, this.limits.summaryQueue)
    this.#now = options.now ?? Date.now
    this.#onError = options.onError ?? (() => {})
  }

  /** The record, checked; undefined if there is none. Throws `record_invalid` or `store_unavailable`. */
  async read(player: string, npc: string): Promise<MemoryRecord | undefined> {
    const got = await this.#store.getRecord({ player, npc })
    return got && parseRecord(got.record, player, npc)
  }

  /**
   * A new conversation's data for this player: the record's unlocks, variables and the memories
   * they allow. Never throws and never waits on a summary: without a readable record it is a
   * fresh start. Summaries due for this record are retried in the background.
   */
  async start(npc: Npc, player: string, remember: RememberOptions = {}): Promise<ConversationData> {
    let record: MemoryRecord | undefined
    try {
      record = await this.read(player, npc.id)
    } catch (error) {
      this.#onError(error, { player, npc: npc.id, stage: 'read' })
    }
    if (record?.pending.some((p) => p.retryAt <= this.#now())) this.#enqueue(npc, player, () => this.#drain(npc, player, remember))
    return startFromRecord(npc, record, this.limits, this.#now())
  }

  /**
   * Opens a conversation with `npc` for `player`, started from the record; when it ends (a
   * farewell, an exit phrase, `end()`, too many failures), its memory is written in the background.
   * @example
   * const keeper = new MemoryKeeper({ store: new MemoryConversationStore() })
   * const convo = await keeper.open(informant, 'player-42', { provider })
   * await convo.say('我叫阿杰')
   * convo.end() // the informant will remember 阿杰 next time
   */
  async open(npc: Npc, player: string, options: ConversationOptions): Promise<RememberedConversation> {
    const remember = { provider: options.provider, userId: options.userId }
    const data = await this.start(npc, player, remember)
    const convo = new Conversation(npc, options, { data, ended: false })
    this.watch(convo, player, remember)
    return Object.assign(convo, { returning: (data.memories?.length ?? 0) > 0 })
  }

  /**
   * Writes the memory of any conversation with this player when it ends: one `open` made, or one
   * the game restored from a save. Returns a function that stops watching.
   */
  watch(convo: Conversation, player: string, options: RememberOptions & { startedAt?: number | undefined; source?: string | undefined } = {}): () => void {
    const source = options.source ?? `local:${crypto.randomUUID()}`
    const { context } = convo.actor.getSnapshot()
    // A conversation restored from a save keeps the start time it was saved with (see `finishedFrom`).
    const startedAt = options.startedAt ?? context.data.origin?.startedAt ?? this.#now()
    // By default the conversation's own provider writes its memory, for the player it talks with.
    const remember: RememberOptions = { provider: options.provider ?? context.provider, userId: options.userId ?? context.userId }
    let written = false
    const sub = convo.actor.subscribe((snapshot) => {
      if (written || snapshot.value !== 'ended') return
      written = true
      // Taken now, written in the background: `remember` only queues the work.
      this.remember(convo.npc, player, finishedFrom(convo, source, startedAt), remember)
      queueMicrotask(() => sub.unsubscribe())
    })
    return () => sub.unsubscribe()
  }

  /**
   * Takes a conversation that ended (or that a server is letting go of; see `finishedFrom`) into the record, then
   * writes its memory. Returns at once; `settled()` waits for the work. With `onlyIf`, nothing is
   * written unless it resolves true (a server checks it still holds the newest version).
   */
  remember(npc: Npc, player: string, finished: FinishedConversation, remember: RememberOptions = {}, onlyIf?: () => Promise<boolean>): void {
    const provider = this.#providerFor(npc, remember)
    // A provider that cannot summarise writes no memories: the record still keeps unlocks and variables.
    const c = provider ? finished : { ...finished, history: [], summary: undefined }
    // Unlocks and variables are written at once, on their own queue: a slow summary of an earlier
    // conversation never holds them back. Only the summary waits its turn behind other summaries.
    this.#enqueue(npc, player, async () => {
      if (onlyIf && !(await onlyIf())) return
      const kept = await this.#changeUnlessForgotten(player, npc.id, c.startedAt, (r) => withFinished(r, npc, c, this.limits, this.#now()))
      if (kept) this.#enqueue(npc, player, () => this.#drain(npc, player, remember))
    }, 'write')
  }

  /** Retries the summaries that are due, for the records this process knows have some waiting. */
  retryDue(): void {
    for (const due of [...this.#due.values()]) this.#enqueue(due.npc, due.player, () => this.#drain(due.npc, due.player, due.remember))
  }

  /**
   * Changes a record with compare-and-set, for games that edit what a player earned (say, a
   * chapter that resets what the NPC has told): `change` gets the current record (an empty one if
   * none) and returns the next, or undefined to leave it.
   */
  async update(player: string, npc: string, change: (record: MemoryRecord) => MemoryRecord | undefined): Promise<MemoryRecord | undefined> {
    return this.#change(player, npc, (r) => {
      const next = change(r)
      return next && { ...next, format: r.format, version: r.version, npc, player, updated: this.#now() }
    })
  }

  /**
   * The player's right to be forgotten: deletes the record with one NPC, or with every NPC. A
   * marker of when (no more than that) is kept first, so a conversation that started before and
   * ends later, here or on another server, writes nothing back.
   */
  async forget(player: string, npc?: string): Promise<number> {
    const at = this.#now()
    await this.#changeMarker(player, (m) => forgetting(m, player, npc, at))
    return this.#store.deleteRecords(player, npc)
  }

  /** When this player was last forgotten by this NPC (-Infinity if never). */
  async #forgottenAt(player: string, npc: string): Promise<number> {
    const got = await this.#store.getRecord(markerKey(player))
    const m = got && readMarker(got.record, player)
    return m ? Math.max(m.all, Object.hasOwn(m.npcs, npc) ? m.npcs[npc]! : -Infinity) : -Infinity
  }

  async #changeMarker(player: string, change: (m: ForgottenMarker | undefined) => ForgottenMarker): Promise<void> {
    for (let i = 0; i < CHANGE_TRIES; i++) {
      const got = await this.#store.getRecord(markerKey(player))
      if (await this.#store.putRecord(markerKey(player), change(got && readMarker(got.record, player)), got?.version ?? 0)) return
    }
    throw new ParleyError('store_unavailable', `the forget marker of this player kept changing under ${CHANGE_TRIES} writes`)
  }

  /**
   * `#change` for a conversation's facts, unless the player was forgotten after it started. The
   * marker is read again after the write: forget writes it before deleting, so a write that lands
   * between a delete and this check is undone here, and one before the marker is deleted by forget.
   */
  async #changeUnlessForgotten(player: string, npc: string, startedAt: number, change: (r: MemoryRecord) => MemoryRecord | undefined): Promise<boolean> {
    if (startedAt <= (await this.#forgottenAt(player, npc))) return false
    await this.#change(player, npc, change)
    if (startedAt <= (await this.#forgottenAt(player, npc))) {
      await this.#store.deleteRecords(player, npc)
      return false
    }
    return true
  }

  /**
   * The player's "new game" with these NPCs: their records are emptied, and conversations that
   * started before now are not remembered even if they end later.
   */
  async newGame(player: string, npcs: readonly string[]): Promise<void> {
    const since = this.#now()
    await Promise.all(npcs.map((npc) => this.#change(player, npc, (r) => ({ ...emptyRecord(player, npc), since: Math.max(since, r.since), updated: since }))))
  }

  /** Resolves once every memory this keeper is writing is written (or given up). For tests and shutdown. */
  async settled(): Promise<void> {
    while (this.#jobs.size) await Promise.all([...this.#jobs.values()])
  }

  #providerFor(npc: Npc, remember: RememberOptions): Provider | undefined {
    const p = typeof this.#provider === 'function' ? this.#provider(npc) : (this.#provider ?? remember.provider)
    return p?.summarize ? p : undefined
  }

  #enqueue(npc: Npc, player: string, work: () => Promise<void>, queue: 'write' | 'summary' = 'summary'): void {
    const key = `${player}\n${npc.id}\n${queue}`
    const job = (this.#jobs.get(key) ?? Promise.resolve()).then(work).catch((error: unknown) => this.#onError(error, { player, npc: npc.id, stage: 'write' }))
    this.#jobs.set(key, job)
    void job.finally(() => {
      if (this.#jobs.get(key) === job) this.#jobs.delete(key)
    })
  }

  /** Reads, changes and writes the record until the write holds (another server may write in between). */
  async #change(player: string, npc: string, change: (r: MemoryRecord) => MemoryRecord | undefined): Promise<MemoryRecord | undefined> {
    for (let i = 0; i < CHANGE_TRIES; i++) {
      const got = await this.#store.getRecord({ player, npc })
      const current = got ? parseRecord(got.record, player, npc) : emptyRecord(player, npc)
      const next = change(current)
      if (!next) return current
      if (await this.#store.putRecord({ player, npc }, next, got?.version ?? 0)) return next
    }
    throw new ParleyError('store_unavailable', `the memory record of ${npc} kept changing under ${CHANGE_TRIES} writes; left as it is`)
  }

  /** Writes the memories that are due, then merges the oldest while there are too many. */
  async #drain(npc: Npc, player: string, remember: RememberOptions): Promise<void> {
    const key = `${player}\n${npc.id}`
    const provider = this.#providerFor(npc, remember)
    let record = await this.read(player, npc.id)
    // Each waiting summary is tried once per pass: a failure waits for its retry time, even a zero one.
    const tried = new Set<string>()
    for (let step = 0; record && step < DRAIN_STEPS; step++) {
      const now = this.#now()
      const next = record.pending.find((p) => p.retryAt <= now && !tried.has(p.source))
      if (next) {
        tried.add(next.source)
        const text = provider && (await this.#summarize(provider, npc, player, remember, next.previous, next.entries))
        if (text === NO_SLOT) {
          // Every slot busy and the wait list full: not an attempt. It waits its retry time; so does the rest of this pass.
          record = await this.#change(player, npc.id, (r) => withPostponed(r, next.source, this.#now() + this.limits.retryDelayMs))
          break
        }
        record = await this.#change(player, npc.id, (r) => (text ? withWritten(r, next.source, text, 'model', this.#now()) : withFailure(r, npc, next.source, this.limits, this.#now())))
        continue
      }
      const group = mergeCandidates(record, this.limits)
      if (!group) break
      const asked = provider && (await this.#summarize(provider, npc, player, remember, group.map((m) => m.text).join(MERGE_SEPARATOR), []))
      // No slot: the merge waits for the next pass (the prompt's budget bounds what is carried meanwhile).
      if (asked === NO_SLOT) break
      const text = asked || mergedFallback(npc, group, this.limits)
      record = await this.#change(player, npc.id, (r) => withMerged(r, group, text, 'model', this.#now()))
    }
    this.#due.delete(key)
    if (record?.pending.length) {
      if (this.#due.size >= MAX_DUE) this.#due.delete(this.#due.keys().next().value!)
      this.#due.set(key, { npc, player, remember })
    }
  }

  /**
   * One summary call, held to its deadline and budget, in one of the keeper's slots; undefined
   * when it failed, was slow, or said nothing; `NO_SLOT` when it was never made (too many waiting).
   */
  async #summarize(provider: Provider, npc: Npc, player: string, remember: RememberOptions, previous: string | undefined, entries: FinishedConversation['history']): Promise<string | undefined | typeof NO_SLOT> {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const call = () => {
        // The deadline runs from the call's start, not from its wait for a slot.
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort()
            reject(new ParleyError('aborted', `the memory summary took longer than ${this.limits.summaryTimeoutMs} ms`))
          }, this.limits.summaryTimeoutMs)
        })
        return Promise.race([provider.summarize!({ purpose: 'memory', npc, previous, entries, maxTokens: this.limits.memoryTokens, model: npc.model, signal: controller.signal, userId: remember.userId }), deadline])
      }
      const result = await this.#slots.run(call)
      if (result === NO_SLOT) {
        this.#onError(new ParleyError('aborted', `${this.limits.summaryQueue} memory summaries already wait for a slot; this one is retried later`), { player, npc: npc.id, stage: 'summarize' })
        return NO_SLOT
      }
      const text = clipToTokens(typeof result?.text === 'string' ? result.text : '', this.limits.memoryTokens)
      return text || undefined
    } catch (error) {
      this.#onError(error, { player, npc: npc.id, stage: 'summarize' })
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }
}

/**
 * What the record takes from a conversation: its lines, its running summary if it keeps one, its
 * unlocks and variables, the gated lore it sent, and where it began. A conversation that carries
 * its own start time (one the keeper opened, or restored from a save of one: `started_at`) is
 * taken as starting at the earlier of that and `startedAt`, so restoring an old save cannot pass
 * for a conversation begun after the player's "new game".
 */
export function finishedFrom(convo: Conversation, source: string, startedAt: number, version?: number): FinishedConversation {
  const snapshot = convo.snapshot() as { summary?: unknown }
  const s = snapshot.summary
  const summary = typeof s === 'string' ? s : s && typeof s === 'object' && typeof (s as { text?: unknown }).text === 'string' ? (s as { text: string }).text : undefined
  const { data } = convo.actor.getSnapshot().context
  const origin = data.origin
  return {
    source,
    // A caller that does not know when it started passes 0: then the conversation's own time stands.
    startedAt: origin ? (startedAt > 0 ? Math.min(origin.startedAt, startedAt) : origin.startedAt) : startedAt,
    history: convo.history(),
    summary: summary || undefined,
    unlocked: convo.unlocked(),
    vars: convo.vars(),
    varsVersion: varsVersion(convo.npc),
    ...(version !== undefined && { version }),
    ...(data.gatedLore?.length && { gatedLore: [...data.gatedLore] }),
    ...(origin && { inherited: { unlocked: [...origin.unlocked], vars: { ...origin.vars } } }),
  }
}

/**
 * Where the keeper notes when a player was forgotten: apart from the player's own records, so
 * deleting those leaves it, under a name no player id from the HTTP service can take. Markers
 * hold only times, and like records they do not expire.
 */
const FORGOTTEN = '\u0000forgotten'
const markerKey = (player: string) => ({ player: FORGOTTEN, npc: player })

/** When a player was forgotten: by every NPC (`all`), or by some. It holds times, never what was forgotten. */
interface ForgottenMarker {
  format: 'parley.forgotten'
  player: string
  all: number
  npcs: Record<string, number>
}

function readMarker(value: unknown, player: string): ForgottenMarker | undefined {
  const m = value as Partial<ForgottenMarker> | null
  if (!m || m.format !== 'parley.forgotten' || m.player !== player || typeof m.all !== 'number' || !m.npcs || typeof m.npcs !== 'object') return undefined
  const npcs: Record<string, number> = Object.create(null) as Record<string, number>
  for (const [k, v] of Object.entries(m.npcs)) if (typeof v === 'number') npcs[k] = v
  return { format: 'parley.forgotten', player, all: m.all, npcs }
}

function forgetting(m: ForgottenMarker | undefined, player: string, npc: string | undefined, at: number): ForgottenMarker {
  const all = Math.max(m?.all ?? -1, npc === undefined ? at : -1)
  // Per-NPC times at or before `all` say nothing more: dropped, so the marker stays small.
  const npcs = Object.fromEntries(Object.entries(m?.npcs ?? {}).filter(([, t]) => t > all))
  if (npc !== undefined) npcs[npc] = Math.max(Object.hasOwn(npcs, npc) ? npcs[npc]! : 0, at)
  return { format: 'parley.forgotten', player, all, npcs }
}

