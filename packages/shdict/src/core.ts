/**
 * Core: one process's handle on a zone — cached views, the zone lock, the clock, and the
 * primitives every operation shares (expiry test, LRU touch, entry writing, allocation
 * with eviction).
 *
 * Locking protocol: `lock()` … `locked work` … `H_DIRTY = 0` … `unlock()`. Work that
 * changes derived state sets H_DIRTY = 1 first. If the work throws half-way, DIRTY is still
 * set when `unlock()` runs, and unlock recovers the zone before releasing the lock; if the
 * process dies instead, the next locker (or the supervisor's forceUnlock) recovers it.
 */
import { alloc } from './alloc.js'
import { readValue, writeValue, type Encoded, type Value } from './codec.js'
import { SharedDictError } from './errors.js'
import {
  E_EXP, E_FLAGS, E_HASH, E_KEY, E_LPREV, E_META, E_STAMP, E_VLEN, H_DIRTY, H_FORMAT_ID, H_LOCK,
  H_LRU_HEAD, H_LRU_TAIL, H_STAMP, L_HEAD, L_TAIL, MIN_ORDER, T_LIST, T_UTF8,
  valueOffset,
} from './layout.js'
import { recover } from './recover.js'
import { isDirty, lockSlow, PID, takeFrom, type LockTiming } from './shmtx.js'
import { chainWordOf, lruPushHead, lruRemove, removeEntry, type Cursor } from './table.js'
import type { Zone } from './zone.js'

/** how many LRU-tail entries an allocation failure scans for expired ones before evicting */
const EXPIRED_SCAN = 64
/**
 * Strings up to this many bytes are kept decoded per process in a direct-mapped cache
 * indexed by block and validated by the entry's stamp (unique per write, so a hit is the
 * very bytes that were decoded): a hit skips the decode, the dominant cost of get.
 */
const CACHE_MAX_BYTES = 256
/** at most this many cached strings per dict per process (a power of two) */
const CACHE_SLOTS_MAX = 1 << 16

export class Core implements Cursor {
  readonly z: Zone
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly now: () => number
  readonly timing: LockTiming
  prevWord = 0
  /** set by allocEvicting: whether it evicted a live entry */
  forcible = false
  #stamps: Int32Array | null = null
  #strings: string[] = []
  #formatId = 0

  constructor(z: Zone, now: () => number, timing: LockTiming) {
    this.z = z
    this.i32 = z.i32
    this.f64 = z.f64
    this.now = now
    this.timing = timing
  }

  lock(): void {
    if (Atomics.compareExchange(this.i32, H_LOCK, 0, PID) !== 0) {
      if (lockSlow(this.i32, this.timing) && isDirty(this.i32)) recover(this.z)
    }
  }

  unlock(): void {
    if (this.i32[H_DIRTY] !== 0) recover(this.z)
    Atomics.store(this.i32, H_LOCK, 0)
  }

  /** Runs `fn` under the zone lock. */
  locked<T>(fn: () => T): T {
    this.lock()
    try {
      return fn()
    } finally {
      this.unlock()
    }
  }

  /** Supervisor: if `pid` holds the lock, repair what it may have left and release. */
  forceUnlock(pid: number): boolean {
    if (!takeFrom(this.i32, pid)) return false
    if (isDirty(this.i32)) recover(this.z)
    Atomics.store(this.i32, H_LOCK, 0)
    return true
  }

  expired(e: number): boolean {
    const exp = this.f64[(e + E_EXP) >> 3]!
    return exp !== 0 && exp <= this.now()
  }

  /** absolute expiry (ms) for a relative one; 0 stays "never" */
  expiryAt(ttlMs: number): number {
    return ttlMs === 0 ? 0 : this.now() + ttlMs
  }

  /** Moves `e` to the LRU head (most recently used). */
  touch(e: number): void {
    const i32 = this.i32
    if (i32[H_LRU_HEAD] === e) return
    const dirty = i32[H_DIRTY]!
    i32[H_DIRTY] = 1
    lruRemove(this.z, e)
    lruPushHead(this.z, e)
    i32[H_DIRTY] = dirty
  }

  /** Reads a non-list entry's value; throws on a list. */
  readEntry(e: number): Value {
    const i32 = this.i32
    const meta = i32[(e + E_META) >> 2]!
    const type = meta >>> 16
    const len = i32[(e + E_VLEN) >> 2]!
    if (type <= T_UTF8 && len <= CACHE_MAX_BYTES) return this.#cachedString(e, type, e + valueOffset(meta & 0xffff), len)
    if (type === T_LIST) throw new SharedDictError('SHD_ERR_IS_A_LIST', 'value is a list')
    return readValue(this.z, type, e + valueOffset(meta & 0xffff), len)
  }

  #cachedString(e: number, type: number, at: number, len: number): Value {
    const i32 = this.i32
    let stamps = this.#stamps
    if (stamps === null || i32[H_FORMAT_ID] !== this.#formatId) stamps = this.#resetCache()
    const slot = ((e - this.z.heap) >> MIN_ORDER) & (stamps.length - 1)
    const stamp = i32[(e + E_STAMP) >> 2]!
    if (stamps[slot] === stamp) return this.#strings[slot]!
    const s = readValue(this.z, type, at, len) as string
    stamps[slot] = stamp
    this.#strings[slot] = s
    return s
  }

  #resetCache(): Int32Array {
    let slots = 1
    while (slots < CACHE_SLOTS_MAX && slots << MIN_ORDER < this.z.heapEnd - this.z.heap) slots <<= 1
    this.#formatId = this.i32[H_FORMAT_ID]!
    this.#stamps = new Int32Array(slots)
    this.#strings = new Array<string>(slots).fill('')
    return this.#stamps
  }

  flagsOf(e: number): number {
    return this.i32[(e + E_FLAGS) >> 2]! >>> 0
  }

  /** Fills entry block `e` (not yet reachable). `v` null: a list holding just `node`. */
  writeEntry(e: number, key: string, h: number, type: number, v: Encoded | null, flags: number, exp: number, node: number): void {
    const z = this.z
    const i32 = this.i32
    const klen = key.length
    let stamp = (i32[H_STAMP]! + 1) | 0
    if (stamp === 0) stamp = 1
    i32[H_STAMP] = stamp
    i32[(e + E_STAMP) >> 2] = stamp
    i32[(e + E_HASH) >> 2] = h
    i32[(e + E_META) >> 2] = klen | (type << 16)
    i32[(e + E_VLEN) >> 2] = v === null ? 1 : v.len
    i32[(e + E_FLAGS) >> 2] = flags | 0
    this.f64[(e + E_EXP) >> 3] = exp
    const u16 = z.u16
    const k = (e + E_KEY) >> 1
    for (let i = 0; i < klen; i++) u16[k + i] = key.charCodeAt(i)
    const at = e + valueOffset(klen)
    if (v !== null) writeValue(z, at, v)
    else {
      i32[(at + L_HEAD) >> 2] = node
      i32[(at + L_TAIL) >> 2] = node
    }
  }

  /** Removes up to `max` expired entries from the LRU tail (nginx's shdict_expire(ctx, 1)). */
  expireTail(max: number): void {
    const i32 = this.i32
    for (let i = 0; i < max; i++) {
      const e = i32[H_LRU_TAIL]!
      if (e === 0 || !this.expired(e)) return
      i32[H_DIRTY] = 1
      removeEntry(this.z, chainWordOf(this.z, e), e)
    }
  }

  /**
   * Allocates a block, evicting if needed: first expired entries near the LRU tail, then
   * least recently used entries, never `protect`. Sets `this.forcible` when a live entry
   * was evicted. Returns 0 when even an empty zone (but `protect`) has no room.
   */
  allocEvicting(order: number, tag: number, protect: number): number {
    const z = this.z
    const i32 = this.i32
    this.forcible = false
    i32[H_DIRTY] = 1
    let e = i32[H_LRU_TAIL]!
    for (let i = 0; i < EXPIRED_SCAN && e !== 0; i++) {
      const prev = i32[(e + E_LPREV) >> 2]!
      if (e !== protect && this.expired(e)) removeEntry(z, chainWordOf(z, e), e)
      e = prev
    }
    let b = alloc(z, order, tag)
    while (b === 0) {
      let victim = i32[H_LRU_TAIL]!
      if (victim === protect && victim !== 0) victim = i32[(victim + E_LPREV) >> 2]!
      if (victim === 0) return 0
      if (!this.expired(victim)) this.forcible = true
      removeEntry(z, chainWordOf(z, victim), victim)
      b = alloc(z, order, tag)
    }
    return b
  }
}
