/**
 * The one dynamic-upstream writer: update, delete, per-server changes (workers), seed and
 * reload (primary).
 *
 * Invariants
 * - Every write runs under the `checkups:skeys` lock (dynamic/lock.ts: the key records the
 *   holder's pid) and in this order: check `ifMatch`, build and validate the upstream once,
 *   compute the next version once, save the snapshot (durable first), `store.commit(...)`,
 *   install the result into the calling worker's view (no re-decode of its own bytes).
 * - A commit that does not fit the config zone changes nothing there (store.ts), and the
 *   state file gets the previous snapshot back: zone and file always agree with what was
 *   acknowledged. The failure is logged.
 * - The health records (heartbeat and passive, state zone) of a deleted upstream, and of the
 *   servers a write removed from an upstream, are removed.
 * - The cluster sync (applyRemote) is a write like the others: same lock, same order, one
 *   version bump, so every worker sees a change made on another node as fast as a local one.
 * - The primary's reload reads what is in force from the zone under the same lock, so no
 *   acknowledged write is ever lost to a reload; dynamic/reconcile.ts decides what stays.
 */
import type { ConfigStore } from '../config/store.js'
import { decodeUpstream, encodeUpstream } from '../config/store.js'
import { resolveStored, storedForm } from '../config/resolve.js'
import type { HeartbeatFn, ResolvedConfig, ResolvedUpstream } from '../config/types.js'
import { forEachServer } from '../config/walk.js'
import { CheckupsError } from '../errors.js'
import { KEY } from '../keys.js'
import type { PendingSave, Persistence, StateSnapshot } from '../persist/types.js'
import type { Dict, Logger } from '../zone-types.js'
import type { WorkerView } from '../view/worker-view.js'
import { type NextUpstream, buildUpstream, checkUpstreamInput, deleteNext, modifyNext, updateNext } from './build.js'
import { type DynamicMeta, decodeMeta, emptyMeta, encodeMeta, fileHashes, metaAfterWrite, upstreamHash } from './meta.js'
import { type Dropped, inferMeta, reconcile } from './reconcile.js'
import { serverId } from './servers.js'

export interface WriteOptions {
  /** the config version the caller based this write on (admin `If-Match`) */
  ifMatch?: number | undefined
}

export interface WriterDeps {
  store: ConfigStore
  state: Dict
  logger: Logger
  persistence: Persistence | undefined
  heartbeat(skey: string): HeartbeatFn | null
}

function withoutKey<T>(o: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const { [key]: _drop, ...rest } = o
  return rest
}

/** The snapshot a restore applies (persist/loadStateFile's content). */
export type RestoreSnapshot = StateSnapshot

export class DynamicWriter {
  constructor(private readonly d: WriterDeps) {}

  /** Worker: `updateUpstream(skey, up)` (the original's input rules, dynamic/build.ts). */
  async update(view: WorkerView, skey: string, up: unknown, opts: WriteOptions = {}): Promise<number> {
    return this.change(view, skey, opts, updateNext(skey, up, this.d.heartbeat(skey)))
  }

  /** Worker: `deleteUpstream(skey)`. */
  delete(view: WorkerView, skey: string, opts: WriteOptions = {}): Promise<number> {
    return this.change(view, skey, opts, deleteNext(skey))
  }

  /** Worker: a change of one stored upstream; `fn` returns its raw next form (validated here). */
  modify(view: WorkerView, skey: string, opts: WriteOptions, fn: (stored: ResolvedUpstream) => Record<string, unknown>): Promise<number> {
    return this.change(view, skey, opts, modifyNext(skey, fn))
  }

  /** Validates an update without writing anything (admin `POST /validate`). */
  dryRun(view: WorkerView, skey: string, up: unknown): ResolvedUpstream {
    checkUpstreamInput(up)
    return buildUpstream(skey, up, view.get(skey)?.ups, this.d.heartbeat(skey))
  }

  private change(
    view: WorkerView, skey: string, opts: WriteOptions,
    next: NextUpstream,
  ): Promise<number> {
    const { store } = this.d
    return store.withLock(() => {
      const current = view.upstreams() // the one sync of this write: nobody else writes now
      const version = store.version() + 1
      if (opts.ifMatch !== undefined && opts.ifMatch !== version - 1) {
        throw new CheckupsError('CKP_ERR_VERSION_MISMATCH', `config version is ${version - 1}, not ${opts.ifMatch}`)
      }
      const stored = current[skey]
      const ups = next(stored)
      const meta = decodeMeta(store.readMeta())
      const nextMeta = metaAfterWrite(meta, skey, ups !== null)
      const after = { ...current }
      if (ups === null) delete after[skey]
      else after[skey] = ups
      const bytes = ups === null ? null : encodeUpstream(ups)
      const pending = this.save(version, after, nextMeta) // durable first
      try {
        store.commit(version, skey, bytes, encodeMeta(nextMeta))
      } catch (err) {
        this.d.logger.error({ skey, version, code: (err as CheckupsError).code, error: (err as Error).message }, 'config write refused')
        this.undoSave(pending, version - 1, current, meta)
        throw err
      }
      pending?.commit()
      view.install(skey, ups, bytes, version)
      if (stored !== undefined) this.removeHealth(skey, stored, ups)
      return version
    })
  }

  /** Primary, before any worker runs: seeds the zone from the file config or a restored snapshot. */
  seed(cfg: ResolvedConfig, restore: RestoreSnapshot | undefined): void {
    if (!restore) {
      this.d.store.init(cfg.upstreams, cfg.conf_hash, undefined, encodeMeta(emptyMeta(fileHashes(cfg.upstreams))))
      return
    }
    const restored: Record<string, ResolvedUpstream> = {}
    for (const [skey, raw] of Object.entries(restore.upstreams)) {
      restored[skey] = resolveStored(skey, raw, this.d.heartbeat(skey))
    }
    const meta = restore.origin
      ? { files: {}, origin: { ...restore.origin }, deleted: { ...(restore.deleted ?? {}) } }
      : inferMeta(cfg.upstreams, restored)
    const r = reconcile(cfg.upstreams, restored, meta)
    this.logDropped(r.dropped)
    if (r.dropped.length > 0) this.save(restore.version, r.upstreams, r.meta)?.commit()
    this.d.store.init(r.upstreams, cfg.conf_hash, restore.version, encodeMeta(r.meta))
  }

  /** Primary: makes a new file config current, keeping the runtime changes the rule keeps. */
  reload(cfg: ResolvedConfig): Promise<{ version: number; dropped: Dropped[] }> {
    const { store } = this.d
    return store.withLock(() => {
      const current = this.readZone()
      const meta = decodeMeta(store.readMeta())
      const r = reconcile(cfg.upstreams, current, meta)
      const version = store.version() + 1
      const pending = this.save(version, r.upstreams, r.meta, cfg.conf_hash)
      const bytes = new Map<string, Uint8Array>()
      for (const [skey, ups] of Object.entries(r.upstreams)) bytes.set(skey, encodeUpstream(ups))
      try {
        store.replaceAll(bytes, version, { confHash: cfg.conf_hash, meta: encodeMeta(r.meta) })
      } catch (err) {
        this.d.logger.error({ reload: true, version, error: (err as Error).message }, 'config write refused')
        this.undoSave(pending, version - 1, current, meta)
        throw err
      }
      pending?.commit()
      this.logDropped(r.dropped)
      return { version, dropped: r.dropped }
    })
  }

  /**
   * Primary (cluster sync, cluster/node.ts): the store's upstreams made current under the same
   * lock — `replace` (a snapshot) makes `changes` the whole set, else each given skey is set
   * (null: deleted). One version bump; an entry that does not validate is logged and skipped
   * (the node keeps what it had for that skey). The new config version.
   */
  applyRemote(changes: Readonly<Record<string, unknown>>, replace: boolean): Promise<number> {
    const { store } = this.d
    return store.withLock(() => {
      const current = this.readZone()
      const meta = decodeMeta(store.readMeta())
      const after: Record<string, ResolvedUpstream> = replace ? {} : { ...current }
      let nextMeta = meta
      for (const skey of new Set([...Object.keys(changes), ...(replace ? Object.keys(current) : [])])) {
        const raw = changes[skey]
        let ups: ResolvedUpstream | null = null
        try {
          if (raw !== null && raw !== undefined) ups = resolveStored(skey, raw, this.d.heartbeat(skey))
        } catch (err) {
          this.d.logger.error({ skey, error: (err as Error).message }, 'cluster store upstream refused: kept this node\'s')
          if (current[skey]) after[skey] = current[skey]
          continue
        }
        if (ups === null) delete after[skey]
        else after[skey] = ups
        const same = ups !== null && meta.files[skey] === upstreamHash(ups)
        nextMeta = same
          ? { files: nextMeta.files, origin: withoutKey(nextMeta.origin, skey), deleted: withoutKey(nextMeta.deleted, skey) }
          : metaAfterWrite(nextMeta, skey, ups !== null)
      }
      const version = store.version() + 1
      const pending = this.save(version, after, nextMeta)
      const keys = Object.keys(changes)
      try {
        if (!replace && keys.length === 1) {
          const one = after[keys[0]!]
          store.commit(version, keys[0]!, one ? encodeUpstream(one) : null, encodeMeta(nextMeta))
        } else {
          const bytes = new Map<string, Uint8Array>()
          for (const [skey, ups] of Object.entries(after)) bytes.set(skey, encodeUpstream(ups))
          store.replaceAll(bytes, version, { meta: encodeMeta(nextMeta) })
        }
      } catch (err) {
        this.d.logger.error({ cluster: true, version, error: (err as Error).message }, 'config write refused')
        this.undoSave(pending, version - 1, current, meta)
        throw err
      }
      pending?.commit()
      for (const [skey, before] of Object.entries(current)) if (after[skey] !== before) this.removeHealth(skey, before, after[skey] ?? null)
      return version
    })
  }

  private readZone(): Record<string, ResolvedUpstream> {
    const { store } = this.d
    const current: Record<string, ResolvedUpstream> = {}
    for (const skey of store.readSkeys() ?? []) {
      const b = store.readBytes(skey)
      if (b !== undefined) current[skey] = decodeUpstream(skey, b, this.d.heartbeat(skey))
    }
    return current
  }

  private logDropped(dropped: readonly Dropped[]): void {
    for (const d of dropped) this.d.logger.warn({ skey: d.skey, reason: d.reason }, 'runtime change dropped by the config file')
  }

  /** Saves the snapshot; the pending save to commit or undo (undefined: nothing to undo). */
  private save(version: number, upstreams: Readonly<Record<string, ResolvedUpstream>>, meta: DynamicMeta, confHash?: string): PendingSave | undefined {
    const p = this.d.persistence
    if (!p) return undefined
    const plain: Record<string, unknown> = {}
    for (const [skey, ups] of Object.entries(upstreams)) plain[skey] = storedForm(ups)
    const snapshot: StateSnapshot = {
      version,
      conf_hash: confHash ?? this.d.store.readConfHash() ?? '',
      upstreams: plain,
      origin: meta.origin,
      deleted: meta.deleted,
    }
    if (p.begin) return p.begin(snapshot)
    p.save(snapshot)
    return undefined
  }

  /** After a refused commit: the previous file back (byte for byte when the persistence can). */
  private undoSave(pending: PendingSave | undefined, version: number, upstreams: Readonly<Record<string, ResolvedUpstream>>, meta: DynamicMeta): void {
    try {
      if (pending) pending.undo()
      else this.save(version, upstreams, meta)
    } catch (err) {
      this.d.logger.error({ error: (err as Error).message }, 'state file not restored after a refused write')
    }
  }

  /** Health records of the servers of `before` that `after` (null: deleted) no longer has. */
  private removeHealth(skey: string, before: ResolvedUpstream, after: ResolvedUpstream | null): void {
    const kept = new Set<string>()
    if (after) forEachServer(after, (s) => kept.add(serverId(s)))
    forEachServer(before, (s) => {
      if (kept.has(serverId(s))) return
      this.d.state.delete(KEY.peerStatus(skey, s.host, s.port))
      this.d.state.delete(KEY.passive(skey, s.host, s.port))
    })
  }
}
