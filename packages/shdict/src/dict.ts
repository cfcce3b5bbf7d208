/**
 * SharedDict: ngx.shared.DICT over a SharedArrayBuffer, synchronous.
 *
 * Writes run under the zone lock. Reads (get, getWithFlags, getStale) share one routine
 * (read.ts): a per-process key index validated by entry stamps, then lock-free seqlock
 * reads, then the lock; instead of moving the entry to the LRU head they set its reference
 * byte, and eviction gives referenced entries a second chance (evict.ts). Arguments are
 * checked before the lock is taken, so bad input throws a SharedDictError and leaves the
 * zone untouched. The layout and crash-safety rules live in layout.ts / table.ts /
 * recover.ts; this file only maps the public API.
 */
import { encode, newEncoded, type Value } from './codec.js'
import { Core } from './core.js'
import { SharedDictError } from './errors.js'
import { formatZone } from './format.js'
import { DEFAULT_INDEX_KEYS } from './keyindex.js'
import { H_COUNT, H_LOCK, H_RECOVERIES, H_SLOTS, H_USED, SLOT_COUNT } from './layout.js'
import { llen, pop, push, type PushResult } from './list.js'
import { OPT_HIT, Reader } from './read.js'
import { expire, flushAll, flushExpired, getKeys, ttl } from './scan.js'
import { DEFAULT_TIMING } from './shmtx.js'
import { del, incr, MODE_ADD, MODE_REPLACE, MODE_SET, OK, store, type IncrResult, type SetResult } from './store.js'
import { hashKey } from './table.js'
import { checkCount, checkExptime, checkFlags, checkInt32, checkKey, checkNumber, checkSlot } from './validate.js'
import { verifyLocked } from './verify.js'
import { checkFormatted, MIN_ZONE_BYTES, Zone } from './zone.js'

export type { Value } from './codec.js'
export type { SetResult, IncrResult } from './store.js'
export type { PushResult } from './list.js'

export interface SharedDictOptions {
  /** clock in ms since the epoch (default Date.now: wall time is shared by all processes) */
  now?: () => number
  /** wait this long on a held zone lock before checking whether its owner is alive (ms, default 1000) */
  lockStealAfterMs?: number
  /** give up on a zone lock held by a live process after this long (ms, default 5000) */
  lockTimeoutMs?: number
  /**
   * keys this handle remembers the entries of, so repeated reads skip the hash-chain walk
   * (default 131072; 0 = off). Memory: about 100 bytes per key plus strings up to 256 bytes.
   */
  indexKeys?: number
}

export interface ValueWithFlags { value: Value; flags: number }
export interface StaleValue { value: Value; flags: number; stale: boolean }

export class SharedDict {
  readonly #c: Core
  readonly #r: Reader
  readonly #enc = newEncoded()

  private constructor(z: Zone, opts: SharedDictOptions | undefined) {
    const now = opts?.now ?? Date.now
    if (typeof now !== 'function') throw new SharedDictError('SHD_ERR_INVALID_ARG', 'opts.now must be a function')
    const timing = {
      stealAfterMs: checkCount(opts?.lockStealAfterMs, 'lockStealAfterMs', DEFAULT_TIMING.stealAfterMs),
      timeoutMs: checkCount(opts?.lockTimeoutMs, 'lockTimeoutMs', DEFAULT_TIMING.timeoutMs),
    }
    this.#c = new Core(z, now, timing)
    this.#r = new Reader(this.#c, checkCount(opts?.indexKeys, 'indexKeys', DEFAULT_INDEX_KEYS))
  }

  /** Formats a new zone: a fresh SharedArrayBuffer of `size` bytes, or the given buffer. */
  static create(size: number | SharedArrayBuffer, opts?: SharedDictOptions): SharedDict {
    let sab: SharedArrayBuffer
    if (size instanceof SharedArrayBuffer) sab = size
    else if (typeof size === 'number' && Number.isInteger(size) && size >= MIN_ZONE_BYTES && size <= 0x7fffffc0) {
      sab = new SharedArrayBuffer(size)
    } else {
      throw new SharedDictError('SHD_ERR_INVALID_ARG', `zone size must be an integer in [${MIN_ZONE_BYTES}, 2^31), or a SharedArrayBuffer`)
    }
    return new SharedDict(formatZone(sab), opts)
  }

  /** Opens a zone formatted by `create` (in this or another process). */
  static attach(sab: SharedArrayBuffer, opts?: SharedDictOptions): SharedDict {
    checkFormatted(sab)
    return new SharedDict(new Zone(sab), opts)
  }

  get buffer(): SharedArrayBuffer {
    return this.#c.z.sab
  }

  get(key: string): Value | undefined {
    checkKey(key)
    const r = this.#r
    return r.read(key, false) === OPT_HIT ? r.value : undefined
  }

  getWithFlags(key: string): ValueWithFlags | undefined {
    checkKey(key)
    const r = this.#r
    return r.read(key, false) === OPT_HIT ? { value: r.value, flags: r.flags } : undefined
  }

  getStale(key: string): StaleValue | undefined {
    checkKey(key)
    const r = this.#r
    return r.read(key, true) === OPT_HIT ? { value: r.value, flags: r.flags, stale: r.stale } : undefined
  }

  #write(mode: number, safe: boolean, key: string, value: unknown, exptime: unknown, flags: unknown): SetResult {
    checkKey(key)
    const ttlMs = checkExptime(exptime)
    const fl = checkFlags(flags)
    if (value === undefined || value === null) {
      if (mode !== MODE_SET) throw new SharedDictError('SHD_ERR_INVALID_VALUE', 'attempt to add or replace nil values')
      del(this.#c, key, hashKey(key))
      return OK
    }
    if (!encode(value, this.#enc)) {
      throw new SharedDictError('SHD_ERR_INVALID_VALUE', `unsupported value type: ${typeof value}`)
    }
    return store(this.#c, key, hashKey(key), mode, safe, this.#enc, ttlMs, fl)
  }

  /** Stores a value (evicting LRU entries when full). `value` undefined/null deletes, as in nginx. */
  set(key: string, value: Value | undefined | null, exptime?: number, flags?: number): SetResult {
    return this.#write(MODE_SET, false, key, value, exptime, flags)
  }

  safeSet(key: string, value: Value | undefined | null, exptime?: number, flags?: number): SetResult {
    return this.#write(MODE_SET, true, key, value, exptime, flags)
  }

  add(key: string, value: Value, exptime?: number, flags?: number): SetResult {
    return this.#write(MODE_ADD, false, key, value, exptime, flags)
  }

  safeAdd(key: string, value: Value, exptime?: number, flags?: number): SetResult {
    return this.#write(MODE_ADD, true, key, value, exptime, flags)
  }

  replace(key: string, value: Value, exptime?: number, flags?: number): SetResult {
    return this.#write(MODE_REPLACE, false, key, value, exptime, flags)
  }

  delete(key: string): void {
    checkKey(key)
    del(this.#c, key, hashKey(key))
  }

  /** Adds `n` to a number; a missing key starts at `init` (with `initTtl`) or fails 'not found'. */
  incr(key: string, n: number, init?: number, initTtl?: number): IncrResult {
    checkKey(key)
    checkNumber(n, 'n')
    if (init !== undefined && init !== null) checkNumber(init, 'init')
    const initTtlMs = checkExptime(initTtl, 'initTtl')
    return incr(this.#c, key, hashKey(key), n, init ?? undefined, initTtlMs, this.#enc)
  }

  #push(key: string, value: Value, left: boolean): PushResult {
    checkKey(key)
    if (!encode(value, this.#enc)) {
      throw new SharedDictError('SHD_ERR_INVALID_VALUE', `unsupported value type: ${value === null ? 'null' : typeof value}`)
    }
    return push(this.#c, key, hashKey(key), this.#enc, left)
  }

  lpush(key: string, value: Value): PushResult {
    return this.#push(key, value, true)
  }

  rpush(key: string, value: Value): PushResult {
    return this.#push(key, value, false)
  }

  lpop(key: string): Value | undefined {
    checkKey(key)
    return pop(this.#c, key, hashKey(key), true)
  }

  rpop(key: string): Value | undefined {
    checkKey(key)
    return pop(this.#c, key, hashKey(key), false)
  }

  llen(key: string): number {
    checkKey(key)
    return llen(this.#c, key, hashKey(key))
  }

  /** Seconds left (fractions), 0 = never expires, undefined = missing or expired. */
  ttl(key: string): number | undefined {
    checkKey(key)
    return ttl(this.#c, key, hashKey(key))
  }

  /** Sets a live key's exptime (0 = never); false if missing or expired. */
  expire(key: string, exptime: number): boolean {
    checkKey(key)
    const ttlMs = checkExptime(exptime)
    return expire(this.#c, key, hashKey(key), ttlMs)
  }

  /** Marks every entry expired (nginx: memory is reclaimed later, getStale still sees them). */
  flushAll(): void {
    flushAll(this.#c)
  }

  /** Frees up to `max` expired entries (0 or omitted = all); returns how many. */
  flushExpired(max?: number): number {
    return flushExpired(this.#c, checkCount(max, 'max', 0))
  }

  /** Live keys, at most `max` (default 1024; 0 = all). */
  getKeys(max?: number): string[] {
    return getKeys(this.#c, checkCount(max, 'max', 1024))
  }

  /** Zone size in bytes. */
  capacity(): number {
    return this.#c.z.size
  }

  /** Bytes free in the zone's allocator. */
  freeSpace(): number {
    const c = this.#c
    return c.locked(() => c.z.heapEnd - c.z.heap - c.i32[H_USED]!)
  }

  /** Counter slot `i` (0..15), read atomically without the zone lock. */
  loadSlot(i: number): number {
    checkSlot(i, SLOT_COUNT)
    return Atomics.load(this.#c.i32, H_SLOTS + i)
  }

  /**
   * The counter slots as a live Int32Array over the zone header (index = slot number), for
   * hot-path change checks: a plain aligned read of it never tears, but it carries no
   * ordering, so a reader that sees a change must re-read the slot with `loadSlot` before the
   * data the slot guards. Read-only by contract: write through `addSlot` / `storeSlot`.
   */
  slotWords(): Int32Array {
    return new Int32Array(this.#c.z.sab, H_SLOTS * 4, SLOT_COUNT)
  }

  /** Atomically adds `n` to slot `i`; returns the new value (int32 wrap-around). */
  addSlot(i: number, n: number): number {
    checkSlot(i, SLOT_COUNT)
    checkInt32(n, 'n')
    return (Atomics.add(this.#c.i32, H_SLOTS + i, n) + n) | 0
  }

  storeSlot(i: number, v: number): void {
    checkSlot(i, SLOT_COUNT)
    checkInt32(v, 'v')
    Atomics.store(this.#c.i32, H_SLOTS + i, v)
  }

  /**
   * Supervisor hook (nginx's ngx_unlock_mutexes): if process `pid` holds the zone lock,
   * repair whatever its interrupted write left and release the lock. Returns true if it did.
   */
  forceUnlock(pid: number): boolean {
    return this.#c.forceUnlock(pid)
  }

  /**
   * Diagnostics: checks the zone's structural invariants under the lock; returns the
   * problems found (empty when healthy).
   */
  verify(): string[] {
    const c = this.#c
    return c.locked(() => verifyLocked(c))
  }

  /** Diagnostics: entries, allocated bytes, recoveries run so far. */
  stats(): { entries: number; usedBytes: number; recoveries: number } {
    const c = this.#c
    return c.locked(() => ({ entries: c.i32[H_COUNT]!, usedBytes: c.i32[H_USED]!, recoveries: c.i32[H_RECOVERIES]! }))
  }

  /**
   * Diagnostics of this handle's reads (get/getWithFlags/getStale): answered lock-free,
   * lock-free attempts discarded (a writer was active), and reads that took the lock.
   */
  readStats(): { lockFree: number; retries: number; locked: number } {
    const r = this.#r
    return { lockFree: r.lockFree, retries: r.retries, locked: r.locked }
  }

  /** Diagnostics: the current lock owner pid (0 = free). */
  lockOwner(): number {
    return Atomics.load(this.#c.i32, H_LOCK)
  }
}
