/**
 * SharedDict: ngx.shared.DICT over a SharedArrayBuffer, synchronous.
 *
 * Writes run under the zone lock. Reads (get, getWithFlags, getStale) first try the
 * lock-free seqlock path (Core.optRead) a bounded number of times and fall back to the
 * lock; instead of moving the entry to the LRU head they set its reference byte, and
 * eviction gives referenced entries a second chance (core.ts). Arguments are checked
 * before the lock is taken, so bad input throws a SharedDictError and leaves the zone
 * untouched. The layout and crash-safety
 * rules live in layout.ts / table.ts / recover.ts; this file only maps the public API.
 */
import { encode, newEncoded, type Value } from './codec.js'
import { Core, OPT_HIT, OPT_LIST, OPT_MISS, OPT_RETRY } from './core.js'
import { SharedDictError } from './errors.js'
import { H_COUNT, H_LOCK, H_RECOVERIES, H_SLOTS, H_USED, SLOT_COUNT } from './layout.js'
import { llen, pop, push, type PushResult } from './list.js'
import { expire, flushAll, flushExpired, getKeys, ttl } from './scan.js'
import { DEFAULT_TIMING } from './shmtx.js'
import { del, incr, MODE_ADD, MODE_REPLACE, MODE_SET, OK, store, type IncrResult, type SetResult } from './store.js'
import { find, hashKey } from './table.js'
import { checkCount, checkExptime, checkFlags, checkInt32, checkKey, checkNumber, checkSlot } from './validate.js'
import { verifyLocked } from './verify.js'
import { checkFormatted, formatZone, MIN_ZONE_BYTES, Zone } from './zone.js'

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
}

/**
 * Lock-free attempts per read before falling back to the lock. An attempt that finds SEQ
 * odd (a writer inside) costs a few ns, a torn one a lookup: this bounds the wait for a
 * writer to roughly a critical section; a writer that died keeps SEQ odd and sends every
 * read to the locked path, which steals its lock and recovers (as before).
 */
const OPT_TRIES = 256

function isAList(): SharedDictError {
  return new SharedDictError('SHD_ERR_IS_A_LIST', 'value is a list')
}

export interface ValueWithFlags { value: Value; flags: number }
export interface StaleValue { value: Value; flags: number; stale: boolean }

export class SharedDict {
  readonly #c: Core
  readonly #enc = newEncoded()
  /** per-handle read diagnostics (readStats) */
  #lockFree = 0
  #retries = 0
  #lockedReads = 0

  private constructor(z: Zone, opts: SharedDictOptions | undefined) {
    const now = opts?.now ?? Date.now
    if (typeof now !== 'function') throw new SharedDictError('SHD_ERR_INVALID_ARG', 'opts.now must be a function')
    const timing = {
      stealAfterMs: checkCount(opts?.lockStealAfterMs, 'lockStealAfterMs', DEFAULT_TIMING.stealAfterMs),
      timeoutMs: checkCount(opts?.lockTimeoutMs, 'lockTimeoutMs', DEFAULT_TIMING.timeoutMs),
    }
    this.#c = new Core(z, now, timing)
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

  /** Lock-free read attempts; OPT_RETRY when the locked path must be taken. */
  #opt(key: string, h: number, stale: boolean): number {
    const c = this.#c
    for (let i = 0; i < OPT_TRIES; i++) {
      const r = c.optRead(key, h, stale)
      if (r !== OPT_RETRY) {
        this.#lockFree++
        if (r === OPT_LIST && !stale) throw isAList()
        return r
      }
      this.#retries++
    }
    this.#lockedReads++
    return OPT_RETRY
  }

  get(key: string): Value | undefined {
    checkKey(key)
    const c = this.#c
    const h = hashKey(key)
    const r = this.#opt(key, h, false)
    if (r === OPT_HIT) return c.optValue
    if (r === OPT_MISS) return undefined
    c.lock()
    try {
      const e = find(c.z, c, key, h)
      if (e === 0 || c.expired(e)) return undefined
      const v = c.readEntry(e)
      c.markRef(e)
      return v
    } finally {
      c.unlock()
    }
  }

  getWithFlags(key: string): ValueWithFlags | undefined {
    checkKey(key)
    const c = this.#c
    const h = hashKey(key)
    const r = this.#opt(key, h, false)
    if (r === OPT_HIT) return { value: c.optValue, flags: c.optFlags }
    if (r === OPT_MISS) return undefined
    c.lock()
    try {
      const e = find(c.z, c, key, h)
      if (e === 0 || c.expired(e)) return undefined
      const v = { value: c.readEntry(e), flags: c.flagsOf(e) }
      c.markRef(e)
      return v
    } finally {
      c.unlock()
    }
  }

  getStale(key: string): StaleValue | undefined {
    checkKey(key)
    const c = this.#c
    const h = hashKey(key)
    const r = this.#opt(key, h, true)
    if (r === OPT_HIT) return { value: c.optValue, flags: c.optFlags, stale: c.optStale }
    if (r === OPT_MISS) return undefined
    if (r === OPT_LIST) throw isAList()
    c.lock()
    try {
      const e = find(c.z, c, key, h)
      if (e === 0) return undefined
      const stale = c.expired(e)
      const v = { value: c.readEntry(e), flags: c.flagsOf(e), stale }
      if (!stale) c.markRef(e)
      return v
    } finally {
      c.unlock()
    }
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
    return { lockFree: this.#lockFree, retries: this.#retries, locked: this.#lockedReads }
  }

  /** Diagnostics: the current lock owner pid (0 = free). */
  lockOwner(): number {
    return Atomics.load(this.#c.i32, H_LOCK)
  }
}
