/**
 * Core: one process's handle on a zone — cached views, the zone lock, the clock, and the
 * primitives every operation shares (expiry test, LRU touch, entry writing, allocation
 * with eviction, and the lock-free read path).
 *
 * Locking protocol: `lock()` … `locked work` … `H_DIRTY = 0` … `unlock()`. Work that
 * changes derived state sets H_DIRTY = 1 first. If the work throws half-way, DIRTY is still
 * set when `unlock()` runs, and unlock recovers the zone before releasing the lock; if the
 * process dies instead, the next locker (or the supervisor's forceUnlock) recovers it.
 *
 * Seqlock (lock-free reads): the lock holder makes H_SEQ odd right before its first store
 * that a reader could observe (table.ts `beginWrite`) and even again (+1) in `unlock`, so
 * every such store happens while SEQ is odd and every critical section that made one
 * changes SEQ. `optRead` reads SEQ (must be even) and the lock word (must be free: readers
 * defer to a holder, as when every read took the lock), looks the key up and copies the
 * value with plain reads that are range-checked at every step (a torn snapshot may show
 * garbage: every offset is checked against the heap and its block, loops are bounded,
 * nothing is thrown or cached before validation), then re-reads SEQ: unchanged means the
 * snapshot was consistent. Otherwise the caller retries and finally takes the locked path,
 * which steals a dead holder's lock and recovers as before; `unlock`/`forceUnlock` leave
 * SEQ even. The only store a reader makes is its entry's reference byte (layout.ts REFS).
 */
import { alloc } from './alloc.js'
import { readValue, writeValue, type Encoded, type Value } from './codec.js'
import { SharedDictError } from './errors.js'
import {
  E_EXP, E_FLAGS, E_HASH, E_KEY, E_LPREV, E_META, E_NEXT, E_STAMP, E_VLEN, H_COUNT, H_DIRTY,
  H_FORMAT_ID, H_LOCK, H_LRU_HEAD, H_LRU_TAIL, H_SEQ, H_STAMP, L_HEAD, L_TAIL, MIN_ORDER,
  ORDER_MASK, T_ASCII, T_BINARY, T_BOOL, T_LIST, T_NUMBER, T_UTF8, TAG_ENTRY, TAG_MASK,
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

/** optRead results */
export const OPT_MISS = 0
export const OPT_HIT = 1
/** the snapshot was inconsistent (or a writer holds the lock): retry, then lock */
export const OPT_RETRY = 2
/** the key holds a list (validated) */
export const OPT_LIST = 3

/**
 * x86 keeps loads in order (and V8 keeps them in program order around Atomics), so the
 * seqlock's closing Atomics.load of SEQ needs no fence there. Elsewhere (arm64: a
 * load-acquire does not hold back earlier plain loads) an atomic read-modify-write of a
 * private word, whose release half orders the loads before it, serves as the fence.
 */
const NEEDS_FENCE = process.arch !== 'x64' && process.arch !== 'ia32'
const fenceWord = new Int32Array(new SharedArrayBuffer(4))

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
  /** optRead's outputs (OPT_HIT) */
  optValue: Value = ''
  optFlags = 0
  optStale = false
  /** end of the block findOpt last returned */
  #optEnd = 0
  /** no chain can be longer than the number of 64-byte heap units */
  readonly #maxSteps: number

  constructor(z: Zone, now: () => number, timing: LockTiming) {
    this.z = z
    this.i32 = z.i32
    this.f64 = z.f64
    this.now = now
    this.timing = timing
    this.#maxSteps = (z.heapEnd - z.heap) >> MIN_ORDER
  }

  lock(): void {
    if (Atomics.compareExchange(this.i32, H_LOCK, 0, PID) !== 0) {
      if (lockSlow(this.i32, this.timing) && isDirty(this.i32)) recover(this.z)
    }
  }

  unlock(): void {
    if (this.i32[H_DIRTY] !== 0) recover(this.z)
    this.#seqEven()
    Atomics.store(this.i32, H_LOCK, 0)
  }

  /**
   * Lock holder, before releasing: if this critical section (or a dead holder before it)
   * made SEQ odd, make it even — a value no reader saw while the writes were going on.
   */
  #seqEven(): void {
    const s = this.i32[H_SEQ]!
    if ((s & 1) !== 0) Atomics.store(this.i32, H_SEQ, (s + 1) | 0)
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
    this.#seqEven()
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

  /**
   * Lock-free lookup (seqlock snapshot, see the file comment): the entry of `key` or 0, or
   * -1 when the snapshot is visibly torn. Every offset is range-checked before use and the
   * walk is bounded; sets #optEnd to the block's end. Reads only.
   */
  findOpt(key: string, h: number): number {
    const z = this.z
    const i32 = this.i32
    const u16 = z.u16
    const heap = z.heap
    const heapEnd = z.heapEnd
    const maxOrder = z.maxOrder
    const klen = key.length
    let steps = this.#maxSteps
    let e = i32[z.bucketsWord + (h & z.bucketMask)]!
    while (e !== 0) {
      if (e < heap || e >= heapEnd || ((e - heap) & ((1 << MIN_ORDER) - 1)) !== 0 || --steps < 0) return -1
      const w = e >> 2
      const hdr = i32[w]!
      const order = hdr & ORDER_MASK
      if ((hdr & TAG_MASK) !== TAG_ENTRY || order < MIN_ORDER || order > maxOrder || e + (1 << order) > heapEnd) return -1
      if (i32[w + (E_HASH >> 2)] === h && (i32[w + (E_META >> 2)]! & 0xffff) === klen) {
        if (E_KEY + 2 * klen > 1 << order) return -1
        const k = (e + E_KEY) >> 1
        let i = 0
        while (i < klen && u16[k + i] === key.charCodeAt(i)) i++
        if (i === klen) {
          this.#optEnd = e + (1 << order)
          return e
        }
      }
      e = i32[w + (E_NEXT >> 2)]!
    }
    return 0
  }

  /** true when SEQ still reads `seq` (the snapshot taken since is consistent) */
  #validate(seq: number): boolean {
    if (NEEDS_FENCE) Atomics.add(fenceWord, 0, 0)
    return Atomics.load(this.i32, H_SEQ) === seq
  }

  /**
   * One lock-free read attempt of `key`: OPT_MISS (missing, or expired unless `stale`),
   * OPT_HIT (optValue/optFlags/optStale set; the entry marked referenced unless stale),
   * OPT_LIST, or OPT_RETRY (a writer is active or was: nothing was returned or cached).
   * Expired entries are never reclaimed here (the locked paths do that).
   */
  optRead(key: string, h: number, stale: boolean): number {
    const i32 = this.i32
    const seq = Atomics.load(i32, H_SEQ)
    // odd: a write is under way (or its writer died); a held lock: defer to the holder
    // (as every operation did before; a live holder past lockTimeoutMs fails reads too)
    if ((seq & 1) !== 0 || Atomics.load(i32, H_LOCK) !== 0) return OPT_RETRY
    const e = this.findOpt(key, h)
    if (e <= 0) return e === 0 && this.#validate(seq) ? OPT_MISS : OPT_RETRY
    const exp = this.f64[(e + E_EXP) >> 3]!
    const expired = exp !== 0 && exp <= this.now()
    if (expired && !stale) return this.#validate(seq) ? OPT_MISS : OPT_RETRY
    const meta = i32[(e + E_META) >> 2]!
    const type = meta >>> 16
    if (type === T_LIST) return this.#validate(seq) ? OPT_LIST : OPT_RETRY
    const len = i32[(e + E_VLEN) >> 2]!
    const at = e + valueOffset(meta & 0xffff)
    if (type < T_ASCII || type > T_BINARY || len < 0 || at + len > this.#optEnd ||
      (type === T_NUMBER && len !== 8) || (type === T_BOOL && len !== 1)) return OPT_RETRY
    let value: Value
    let slot = -1
    let stamp = 0
    if (type <= T_UTF8 && len <= CACHE_MAX_BYTES) {
      let stamps = this.#stamps
      if (stamps === null || i32[H_FORMAT_ID] !== this.#formatId) stamps = this.#resetCache()
      const s = ((e - this.z.heap) >> MIN_ORDER) & (stamps.length - 1)
      stamp = i32[(e + E_STAMP) >> 2]!
      if (stamps[s] === stamp) value = this.#strings[s]!
      else {
        value = this.#readUnlocked(type, at, len)
        slot = s
      }
    } else {
      value = this.#readUnlocked(type, at, len)
    }
    const flags = i32[(e + E_FLAGS) >> 2]! >>> 0
    if (!this.#validate(seq)) return OPT_RETRY
    if (slot >= 0) {
      this.#stamps![slot] = stamp
      this.#strings[slot] = value as string
    }
    if (!expired) this.markRef(e)
    this.optValue = value
    this.optFlags = flags
    this.optStale = expired
    return OPT_HIT
  }

  /**
   * A value read without the lock, while another process may be rewriting those bytes.
   * UTF-8 is copied to private memory first: V8 decodes UTF-8 in two passes (measure, then
   * write), and bytes changing between them overrun the string it allocated — a SIGSEGV, seen
   * in the cross-process torn-read test. The other types are single-pass copies (latin1,
   * binary slice, number, boolean): torn bytes give a wrong value, which the SEQ re-check
   * discards, never a crash.
   */
  #readUnlocked(type: number, at: number, len: number): Value {
    if (type !== T_UTF8) return readValue(this.z, type, at, len)
    let scratch = this.#scratch
    if (scratch.length < len) scratch = this.#scratch = Buffer.allocUnsafe(Math.max(len, scratch.length * 2))
    scratch.set(this.z.u8.subarray(at, at + len))
    return scratch.toString('utf8', 0, len)
  }

  #scratch: Buffer = Buffer.allocUnsafe(1024)

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
    let chances = i32[H_COUNT]!
    const u8 = z.u8
    while (b === 0) {
      let victim = i32[H_LRU_TAIL]!
      if (victim === protect && victim !== 0) victim = i32[(victim + E_LPREV) >> 2]!
      if (victim === 0) return 0
      if (!this.expired(victim)) {
        const r = z.refs + ((victim - z.heap) >> MIN_ORDER)
        if (u8[r] !== 0 && chances-- > 0) {
          u8[r] = 0
          lruRemove(z, victim)
          lruPushHead(z, victim)
          continue
        }
        this.forcible = true
      }
      removeEntry(z, chainWordOf(z, victim), victim)
      b = alloc(z, order, tag)
    }
    return b
  }
}
