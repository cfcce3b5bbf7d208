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
 */
import { CheckupsError } from '../errors.js'
import { KEY, SLOT } from '../keys.js'
import { decodeRecord, encodeRecord } from '../records.js'
import { type Dict, asBytes } from '../shared.js'
import { resolveUpstream } from './resolve.js'
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
  const raw = decodeRecord<Record<string, unknown>>(bytes)
  return resolveUpstream(skey, { ...raw, heartbeat })
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

  version(): number {
    const v = this.config.get(KEY.CONFIG_VERSION)
    return typeof v === 'number' ? v : 0
  }

  readConfHash(): string | undefined {
    const v = this.config.get(KEY.CONF_HASH)
    return typeof v === 'string' ? v : undefined
  }

  /** Primary: replaces the whole stored config (the original's `init`). */
  init(upstreams: Readonly<Record<string, ResolvedUpstream>>, confHash: string, version?: number): number {
    for (const skey of this.readSkeys() ?? []) {
      if (!Object.hasOwn(upstreams, skey)) this.config.delete(KEY.shdConfig(skey))
    }
    for (const [skey, ups] of Object.entries(upstreams)) this.put(KEY.shdConfig(skey), encodeUpstream(ups))
    this.put(KEY.SKEYS, encodeRecord(Object.keys(upstreams)))
    this.put(KEY.CONF_HASH, confHash)
    const had = this.config.get(KEY.CONFIG_VERSION)
    const next = version ?? (typeof had === 'number' ? had + 1 : 0)
    return this.publish(next)
  }

  /** Seeds an empty zone (no skeys list yet); returns false when it was already seeded. */
  seedIfEmpty(upstreams: Readonly<Record<string, ResolvedUpstream>>, confHash: string): boolean {
    if (this.config.get(KEY.SKEYS) !== undefined) return false
    for (const [skey, ups] of Object.entries(upstreams)) this.config.add(KEY.shdConfig(skey), encodeUpstream(ups))
    this.config.add(KEY.CONF_HASH, confHash)
    if (!this.config.add(KEY.SKEYS, encodeRecord(Object.keys(upstreams))).ok) return false
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

  /** Under the lock: stores one upstream, adds its skey, bumps the version. */
  writeUpstream(skey: string, ups: ResolvedUpstream): number {
    this.put(KEY.shdConfig(skey), encodeUpstream(ups))
    const skeys = this.readSkeys() ?? []
    if (!skeys.includes(skey)) this.put(KEY.SKEYS, encodeRecord([...skeys, skey]))
    return this.publish(this.version() + 1)
  }

  /** Whether an upstream is stored under `skey`. */
  has(skey: string): boolean {
    return this.readBytes(skey) !== undefined
  }

  /** Under the lock: removes one upstream; false when it is not stored. */
  deleteUpstream(skey: string): number | false {
    if (this.readBytes(skey) === undefined) return false
    this.config.delete(KEY.shdConfig(skey))
    this.put(KEY.SKEYS, encodeRecord((this.readSkeys() ?? []).filter((k) => k !== skey)))
    return this.publish(this.version() + 1)
  }

  private publish(version: number): number {
    this.put(KEY.CONFIG_VERSION, version)
    this.config.addSlot(SLOT.CONFIG_VERSION, 1)
    return version
  }

  private put(key: string, value: Uint8Array | string | number): void {
    const r = this.config.set(key, value)
    if (!r.ok) throw new CheckupsError('CKP_ERR_NO_MEMORY', `${r.err} (config zone, storing ${key})`)
  }
}
