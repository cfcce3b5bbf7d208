/**
 * Core: one process's handle on a zone — cached views, the clock, the zone lock (protocol in
 * zonelock.ts) and the entry primitives every operation shares: expiry test, LRU touch,
 * reference marking and entry writing. The read path is read.ts (seqlock.ts, keyindex.ts),
 * making room is evict.ts.
 *
 * Invariants: an entry is written (`writeEntry`) only into a block nobody can reach yet,
 * with a fresh stamp; the only store a lock-free reader makes is an entry's reference byte.
 */
import { writeValue, type Encoded } from './codec.js'
import {
  E_EXP, E_FLAGS, E_HASH, E_KEY, E_META, E_STAMP, E_VLEN, H_DIRTY, H_LRU_HEAD, H_STAMP, L_HEAD,
  L_TAIL, MIN_ORDER, valueOffset,
} from './layout.js'
import type { LockTiming } from './shmtx.js'
import { lruPushHead, lruRemove, type Cursor } from './table.js'
import { forceUnlockZone, lockZone, unlockZone } from './zonelock.js'
import type { Zone } from './zone.js'

export class Core implements Cursor {
  readonly z: Zone
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly now: () => number
  readonly timing: LockTiming
  prevWord = 0
  /** set by allocEvicting (evict.ts): whether it evicted a live entry */
  forcible = false

  constructor(z: Zone, now: () => number, timing: LockTiming) {
    this.z = z
    this.i32 = z.i32
    this.f64 = z.f64
    this.now = now
    this.timing = timing
  }

  lock(): void {
    lockZone(this.z, this.timing)
  }

  unlock(): void {
    unlockZone(this.z)
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
    return forceUnlockZone(this.z, pid)
  }

  expired(e: number): boolean {
    const exp = this.f64[(e + E_EXP) >> 3]!
    return exp !== 0 && exp <= this.now()
  }

  /** absolute expiry (ms) for a relative one; 0 stays "never" */
  expiryAt(ttlMs: number): number {
    return ttlMs === 0 ? 0 : this.now() + ttlMs
  }

  /** Moves `e` to the LRU head (most recently used) and clears its reference byte. */
  touch(e: number): void {
    const i32 = this.i32
    const u8 = this.z.u8
    const r = this.z.refs + ((e - this.z.heap) >> MIN_ORDER)
    if (u8[r] !== 0) u8[r] = 0
    if (i32[H_LRU_HEAD] === e) return
    const dirty = i32[H_DIRTY]!
    i32[H_DIRTY] = 1
    lruRemove(this.z, e)
    lruPushHead(this.z, e)
    i32[H_DIRTY] = dirty
  }

  /**
   * Marks entry `e` referenced (what a get does instead of moving it to the LRU head):
   * eviction gives it a second chance. Writes only when the byte is clear, so reads of hot
   * keys stay read-only in steady state. Safe without the lock: `e` is in the heap, and a
   * byte set for a block that was meanwhile reused only grants a spurious second chance.
   */
  markRef(e: number): void {
    const u8 = this.z.u8
    const r = this.z.refs + ((e - this.z.heap) >> MIN_ORDER)
    if (u8[r] === 0) u8[r] = 1
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
    const r = z.refs + ((e - z.heap) >> MIN_ORDER)
    if (z.u8[r] !== 0) z.u8[r] = 0
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
}
