/**
 * The config zone store: upstream configs under the original's keys (keys.ts).
 *
 * Invariants
 * - `shd_config:<skey>` = msgpackr of the resolved upstream with `heartbeat: null` (functions
 *   cannot live in shared memory; every process re-attaches the custom heartbeat of its own
 *   config module by skey).
 * - `checkups:skeys` = msgpackr string[] (definition order).
 * - Writers hold the `checkups:skeys` lock (resty.lock in `locks`), write the upstream(s),
 *   then the skeys list, then bump `config_version` and SLOT.CONFIG_VERSION. Readers read the
 *   slot first, then the data, so a reader that saw slot v has data at least as new as v.
 * - `init` (primary) overwrites; `seedIfEmpty` (a worker started without a primary seeding
 *   the zone, e.g. in tests) only adds.
 * - Config writes never evict: every value goes in with `safeSet`. A write that does not fit
 *   is undone key by key (earlier keys of the same commit get their old values back) and
 *   throws CKP_ERR_NO_MEMORY: the zone holds exactly what it held before.
 * - `checkups:config_changes` records which upstream each recent single-upstream write
 *   changed (config/changes.ts), in the same transaction; a whole-config write deletes it.
 *   A removed upstream's bytes are deleted before `config_version` is written, so a reader
 *   that read version v and then the upstreams v names sees v's effect.
 * - `checkups:dynamic_meta` (msgpackr) records which upstreams carry a runtime change and
 *   what file configuration it was based on (dynamic/meta.ts); it is committed together with
 *   the upstreams it describes.
 */
import { CheckupsError } from '../errors.js'
import { KEY, SLOT } from '../keys.js'
import { decodeRecord, encodeRecord } from '../records.js'
import { type Dict, asBytes } from '../zone-types.js'
import { resolveStored } from './resolve.js'
import { type ChangeLog, appendChange, changedSince, decodeChangeLog } from './changes.js'
import type { HeartbeatFn, ResolvedUpstream } from './types.js'

/** resty.lock as @checkups/shdict provides it. */
export interface LockLike {
  lock(key: string): Promise<number>
  unlock(): unknown
}
export type LockFactory = (locks: Dict) => LockLike

export function encodeUpstream(ups: ResolvedUpstream): Uint8Array {
  return encodeRecord({ ...ups, heartbeat: null })
}

/** Decodes a stored upstream, re-validating it and re-attaching the local custom heartbeat. */
export function decodeUpstream(skey: string, bytes: Uint8Array, heartbeat: HeartbeatFn | null): ResolvedUpstream {
  return resolveStored(skey, decodeRecord<Record<string, unknown>>(bytes), heartbeat)
}

export class ConfigStore {
  constructor(
    private readonly config: Dict,
    private readonly locks: Dict,
    private readonly newLock: LockFactory,
  ) {}

  readSkeys(): string[] | undefined {
    return decodeRecord<string[]>(asBytes(this.config.get(KEY.SKEYS)))
  }

  readBytes(skey: string): Uint8Array | undefined {
    return asBytes(this.config.get(KEY.shdConfig(skey)))
  }

  /**
   * The skeys written by versions have+1 … cur (cur = a `version()` read before), or
   * undefined when the change log does not cover them all (compare everything).
   */
  changedSince(have: number, cur: number): string[] | undefined {
    return changedSince(this.readChanges(), have, cur)
  }

  private readChanges(): ChangeLog {
    return decodeChangeLog(asBytes(this.config.get(KEY.CONFIG_CHANGES)))
  }

  version(): number {
    const v = this.config.get(KEY.CONFIG_VERSION)
    return typeof v === 'number' ? v : 0
  }

  readConfHash(): string | undefined {
    const v = this.config.get(KEY.CONF_HASH)
    return typeof v === 'string' ? v : undefined
  }

  /** Primary: replaces the whole stored config (the original's `init`); all or nothing. */
  init(upstreams: Readonly<Record<string, ResolvedUpstream>>, confHash: string, version?: number, meta?: Uint8Array): number {
    const had = this.config.get(KEY.CONFIG_VERSION)
    const next = version ?? (typeof had === 'number' ? had + 1 : 0)
    const bytes = new Map<string, Uint8Array>()
    for (const [skey, ups] of Object.entries(upstreams)) bytes.set(skey, encodeUpstream(ups))
    return this.replaceAll(bytes, next, { confHash, ...(meta ? { meta } : {}) })
  }

  /**
   * Under the lock (or before any worker runs): makes `upstreams` (skey → encoded bytes, in
   * order) the whole stored config at `version`, dropping every other skey. All or nothing.
   */
  replaceAll(upstreams: ReadonlyMap<string, Uint8Array>, version: number, opts: { confHash?: string; meta?: Uint8Array } = {}): number {
    const txn = new Txn(this.config)
    for (const [skey, b] of upstreams) txn.set(KEY.shdConfig(skey), b)
    txn.set(KEY.SKEYS, encodeRecord([...upstreams.keys()]))
    if (opts.confHash !== undefined) txn.set(KEY.CONF_HASH, opts.confHash)
    if (opts.meta !== undefined) txn.set(KEY.DYNAMIC_META, opts.meta)
    txn.delete(KEY.CONFIG_CHANGES) // these versions have no entry: readers compare everything
    txn.set(KEY.CONFIG_VERSION, version)
    for (const skey of this.readSkeysBefore(txn) ?? []) {
      if (!upstreams.has(skey)) this.config.delete(KEY.shdConfig(skey))
    }
    this.config.addSlot(SLOT.CONFIG_VERSION, 1)
    return version
  }

  /**
   * Under the lock: the one write of a dynamic change — stores (or, with `bytes` null,
   * removes) one upstream, the skeys list, the meta record and `version`, then bumps the slot.
   * All or nothing (CKP_ERR_NO_MEMORY when it does not fit).
   */
  commit(version: number, skey: string, bytes: Uint8Array | null, meta?: Uint8Array): number {
    const txn = new Txn(this.config)
    const skeys = this.readSkeys() ?? []
    const key = KEY.shdConfig(skey)
    if (bytes !== null) {
      txn.set(key, bytes)
      if (!skeys.includes(skey)) txn.set(KEY.SKEYS, encodeRecord([...skeys, skey]))
    } else {
      txn.set(KEY.SKEYS, encodeRecord(skeys.filter((k) => k !== skey)))
    }
    if (meta !== undefined) txn.set(KEY.DYNAMIC_META, meta)
    txn.set(KEY.CONFIG_CHANGES, appendChange(this.readChanges(), version, skey))
    if (bytes === null) txn.delete(key) // before the version: a reader of v sees it gone
    txn.set(KEY.CONFIG_VERSION, version)
    this.config.addSlot(SLOT.CONFIG_VERSION, 1)
    return version
  }

  /** The meta record bytes (dynamic/meta.ts), if any. */
  readMeta(): Uint8Array | undefined {
    return asBytes(this.config.get(KEY.DYNAMIC_META))
  }

  private readSkeysBefore(txn: Txn): string[] | undefined {
    return decodeRecord<string[]>(asBytes(txn.before(KEY.SKEYS)))
  }

  /** Seeds an empty zone (no skeys list yet); returns false when it was already seeded. */
  seedIfEmpty(upstreams: Readonly<Record<string, ResolvedUpstream>>, confHash: string, meta?: Uint8Array): boolean {
    if (this.config.get(KEY.SKEYS) !== undefined) return false
    for (const [skey, ups] of Object.entries(upstreams)) this.config.safeAdd(KEY.shdConfig(skey), encodeUpstream(ups))
    this.config.safeAdd(KEY.CONF_HASH, confHash)
    if (meta) this.config.safeAdd(KEY.DYNAMIC_META, meta)
    this.config.delete(KEY.CONFIG_CHANGES)
    if (!this.config.safeAdd(KEY.SKEYS, encodeRecord(Object.keys(upstreams))).ok) return false
    this.config.add(KEY.CONFIG_VERSION, 0)
    this.config.addSlot(SLOT.CONFIG_VERSION, 1)
    return true
  }

  /** Runs `fn` holding the `checkups:skeys` lock; a lock timeout → CKP_ERR_LOCK_TIMEOUT. */
  async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    const lock = this.newLock(this.locks)
    try {
      await lock.lock(KEY.SKEYS_LOCK)
    } catch (cause) {
      const msg = (cause as { message?: unknown }).message
      throw new CheckupsError('CKP_ERR_LOCK_TIMEOUT', typeof msg === 'string' ? msg : 'timeout', { cause })
    }
    try {
      return await fn()
    } finally {
      lock.unlock()
    }
  }
}

type Value = Uint8Array | string | number

/** Writes with `safeSet`, remembering old values; a failed write restores them all and throws. */
class Txn {
  private readonly undo: Array<[string, ReturnType<Dict['get']>]> = []
  private readonly old = new Map<string, ReturnType<Dict['get']>>()

  constructor(private readonly dict: Dict) {}

  /** The value `key` had before this transaction wrote it. */
  before(key: string): ReturnType<Dict['get']> {
    return this.old.has(key) ? this.old.get(key) : this.dict.get(key)
  }

  set(key: string, value: Value): void {
    const prev = this.dict.get(key)
    const r = this.dict.safeSet(key, value)
    if (!r.ok) {
      this.rollback()
      throw new CheckupsError('CKP_ERR_NO_MEMORY', `${r.err} (config zone full storing ${key}; nothing was changed)`)
    }
    if (!this.old.has(key)) this.old.set(key, prev)
    this.undo.push([key, prev])
  }

  /** Deletes `key`; a rollback puts its old value back (it fits: the space was its own). */
  delete(key: string): void {
    const prev = this.dict.get(key)
    if (prev === undefined) return
    this.dict.delete(key)
    if (!this.old.has(key)) this.old.set(key, prev)
    this.undo.push([key, prev])
  }

  private rollback(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) {
      const [key, prev] = this.undo[i]!
      if (prev === undefined) this.dict.delete(key)
      else this.dict.safeSet(key, prev) // frees at least as much as it takes: the slot was ours
    }
  }
}
