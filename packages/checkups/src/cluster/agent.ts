/**
 * The sync agent of one node: follows the cluster store's change log and applies every change,
 * in order, to this node (through a SyncTarget), so each of its workers sees a change made on
 * any node as fast as one made locally.
 *
 * Invariants
 * - The cursor (last applied log id and version) moves only after the target applied the
 *   entry: a timeout, a killed connection or a crash never skips a change.
 * - A full resync (snapshot in one MULTI, applied whole, then follow from its last id) happens
 *   at start and whenever the log cannot be trusted to continue: an entry whose version is not
 *   applied + 1 (a trimmed stream, a missed entry), a new epoch (the store was re-seeded), a
 *   store version behind the applied one, or an idle check that finds the store ahead.
 * - An unseeded store (no epoch: new or flushed) is never applied: the node keeps serving what
 *   it has, and the state says `unseeded`.
 * - The link down: state `down`, nothing applied, retried with a bounded backoff; the node
 *   keeps its last configuration. Commands go out only on a ready link (no offline queue),
 *   and a timed-out command drops the connection: nothing stale is replayed on reconnect.
 */
import type * as IORedis from 'ioredis'
import { type ClusterStore, type LogEntry, type Snapshot, parseEntry } from './store.js'

export interface SyncTarget {
  /** replace this node's upstreams with the store's (a resync) */
  applySnapshot(s: Snapshot): void | Promise<void>
  /** one change, in the store's order */
  applyChange(e: LogEntry): void | Promise<void>
}

export type LinkState = 'starting' | 'up' | 'down' | 'unseeded'
export interface SyncStatus {
  link: LinkState
  epoch: string | null
  /** the store version this node has applied */
  applied: number
  /** the store's version when last seen */
  storeVersion: number
  lag: number
  resyncs: number
  lastError: string | null
  /** ms since the epoch of the last link state change */
  since: number
}

export interface SyncAgentOptions {
  /** XREAD BLOCK milliseconds; also the idle check period (default 2 000) */
  blockMs?: number
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void }
  onStatus?(s: SyncStatus): void
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class SyncAgent {
  readonly #store: ClusterStore
  readonly #target: SyncTarget
  readonly #opts: SyncAgentOptions
  #conn: IORedis.Redis | undefined
  #running: Promise<void> | undefined
  #stopped = false
  #resync = true
  #lastId = '0-0'
  #status: SyncStatus = { link: 'starting', epoch: null, applied: 0, storeVersion: 0, lag: 0, resyncs: 0, lastError: null, since: Date.now() }
  readonly #waiters = new Set<{ v: number; done(ok: boolean): void }>()

  constructor(store: ClusterStore, target: SyncTarget, opts: SyncAgentOptions = {}) {
    ;[this.#store, this.#target, this.#opts] = [store, target, opts]
  }

  start(): void {
    if (this.#running) return
    const block = this.#opts.blockMs ?? 2000
    // a blocked XREAD must outlive its BLOCK; a stopped server is noticed after the margin
    this.#conn = this.#store.duplicate({ commandTimeout: block + 1500 })
    this.#running = this.#loop(block)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#conn?.disconnect()
    await this.#running?.catch(() => undefined)
    for (const w of this.#waiters) w.done(false)
    this.#waiters.clear()
  }

  /** Take a full snapshot at the next turn (after a local reload: the store stays the truth). */
  resync(): void {
    this.#resync = true
  }

  status(): SyncStatus {
    return { ...this.#status }
  }

  /** Resolves true once version `v` is applied here (false after `timeoutMs`). */
  waitApplied(v: number, timeoutMs: number): Promise<boolean> {
    if (this.#status.applied >= v) return Promise.resolve(true)
    return new Promise((resolve) => {
      const w = { v, done: (ok: boolean) => { clearTimeout(t); this.#waiters.delete(w); resolve(ok) } }
      const t = setTimeout(() => w.done(false), timeoutMs)
      this.#waiters.add(w)
    })
  }

  #set(patch: Partial<SyncStatus>): void {
    const prev = this.#status.link
    Object.assign(this.#status, patch)
    this.#status.lag = Math.max(0, this.#status.storeVersion - this.#status.applied)
    if (patch.link !== undefined && patch.link !== prev) {
      this.#status.since = Date.now()
      this.#opts.logger?.[patch.link === 'up' ? 'info' : 'warn']({ link: patch.link, from: prev, error: this.#status.lastError }, 'cluster store link')
    }
    this.#opts.onStatus?.(this.status())
  }

  /** `v` applied (with `patch`, one status change: one publish) */
  #applied(v: number, patch: Partial<SyncStatus> = {}): void {
    this.#set({ ...patch, applied: v, storeVersion: Math.max(v, patch.storeVersion ?? this.#status.storeVersion) })
    for (const w of this.#waiters) if (v >= w.v) w.done(true)
  }

  async #loop(block: number): Promise<void> {
    let backoff = 50
    while (!this.#stopped) {
      try {
        await this.#ready(block)
        if (this.#resync) await this.#fullResync()
        else await this.#follow(block)
        backoff = 50
      } catch (err) {
        if (this.#stopped) return
        const msg = err instanceof Error ? err.message : String(err)
        // a command that timed out still sits in the socket: a fresh connection, so the
        // next read is not queued behind stale blocking ones when the server resumes
        if (/timed out/i.test(msg)) this.#conn?.disconnect(true)
        this.#set({ link: 'down', lastError: msg })
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 1000)
      }
    }
  }

  /** Commands are sent only on a ready link (the connection has no offline queue). */
  async #ready(timeoutMs: number): Promise<void> {
    const c = this.#conn!
    if (c.status === 'ready') return
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        c.off('ready', on)
        reject(new Error(`not connected (${c.status})`))
      }, timeoutMs)
      const on = (): void => {
        clearTimeout(t)
        resolve()
      }
      c.once('ready', on)
    })
  }

  async #fullResync(): Promise<void> {
    const s = await this.#store.snapshot(this.#conn)
    if (s.epoch === null) {
      this.#set({ link: 'unseeded', storeVersion: s.version, epoch: null })
      await sleep(this.#opts.blockMs ?? 2000)
      return
    }
    await this.#target.applySnapshot(s)
    this.#lastId = s.lastId
    this.#resync = false
    this.#applied(s.version, { link: 'up', epoch: s.epoch, resyncs: this.#status.resyncs + 1, lastError: null, storeVersion: s.version })
    this.#opts.logger?.info({ version: s.version, upstreams: Object.keys(s.upstreams).length }, 'cluster store snapshot applied')
  }

  async #follow(block: number): Promise<void> {
    const log = this.#store.keys.log
    const res = (await this.#conn!.xread('COUNT', 500, 'BLOCK', block, 'STREAMS', log, this.#lastId)) as Array<[string, Array<[string, string[]]>]> | null
    if (this.#status.link !== 'up') this.#set({ link: 'up', lastError: null })
    if (res === null) {
      const head = await this.#store.head(this.#conn)
      this.#set({ storeVersion: head.version })
      if (head.epoch !== this.#status.epoch || head.version !== this.#status.applied) this.#resync = true
      return
    }
    for (const [id, fields] of res[0]![1]) {
      const e = parseEntry(id, fields)
      if (e.epoch !== this.#status.epoch || e.op === 'seed' || e.v !== this.#status.applied + 1) {
        this.#opts.logger?.warn({ at: this.#status.applied, got: e.v, epoch: e.epoch }, 'cluster store log does not continue: full resync')
        this.#resync = true
        return
      }
      await this.#target.applyChange(e)
      this.#lastId = id
      this.#applied(e.v)
    }
  }
}
