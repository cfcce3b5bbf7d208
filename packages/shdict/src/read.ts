/**
 * The read routine shared by get, getWithFlags and getStale: `read(key, stale)`.
 *
 * 1. Index hit (keyindex.ts): the key's slot, the lock free, the format id unchanged, and
 *    either SEQ unchanged since the slot was validated (the answer is the state at that
 *    SEQ load) or the entry's stamp (loaded last, after the expiry and a number's value)
 *    still the one recorded (the answer is that write as of the stamp load). No seqlock
 *    round is needed: every other word read belongs to that write (see keyindex.ts).
 * 2. Otherwise lock-free reads through the hash chain (seqlock.ts), at most OPT_TRIES
 *    times; a validated one refreshes the index.
 * 3. Otherwise the locked path, which steals a dead holder's lock and recovers as before.
 *
 * Reads never move entries in the LRU list: they set the entry's reference byte (only when
 * clear, so hot keys stay read-only) and eviction gives it a second chance (evict.ts).
 * Expired entries are never reclaimed here (the locked writers do that).
 */
import { readValue, type Value } from './codec.js'
import type { Core } from './core.js'
import { SharedDictError } from './errors.js'
import {
  E_EXP, E_FLAGS, E_HASH, E_META, E_STAMP, E_VLEN, H_FORMAT_ID, H_LOCK, H_SEQ, MIN_ORDER,
  T_ASCII, T_BINARY, T_BOOL, T_LIST, T_NUMBER, T_UTF8, valueOffset,
} from './layout.js'
import {
  C_AT, C_HASH, C_HDR, C_STAMP, INDEX_MAX_STRING_BYTES, KeyIndex, NO_EXP, S_E, S_FLAGS, S_KIND, S_SEQ, SEQ_HIT_MASK, SLOT_WORDS,
  TYPE_MASK,
} from './keyindex.js'
import { findOpt, found, loadFence, OPT_HIT, OPT_LIST, OPT_MISS, OPT_RETRY, seqValid } from './seqlock.js'
import { find, hashKey } from './table.js'

export { OPT_HIT, OPT_LIST, OPT_MISS, OPT_RETRY } from './seqlock.js'

/**
 * Lock-free attempts per read before falling back to the lock. An attempt that finds SEQ
 * odd (a writer inside) costs a few ns, a torn one a lookup: this bounds the wait for a
 * writer to roughly a critical section; a writer that died keeps SEQ odd and sends every
 * read to the locked path, which steals its lock and recovers (as before).
 */
const OPT_TRIES = 256
/** `#stampHit`: the index cannot answer (no slot, stale slot, lock held…) */
const UNANSWERED = -1

function isAList(): SharedDictError {
  return new SharedDictError('SHD_ERR_IS_A_LIST', 'value is a list')
}

/** whether a value of `type` and `len` bytes is kept in the index */
const indexable = (type: number, len: number): boolean => type !== T_LIST && (type > T_UTF8 || len <= INDEX_MAX_STRING_BYTES)

/** what the index keeps for a value: the decoded string or boolean, a binary's length */
const kept = (type: number, value: Value, len: number): Value => (type === T_BINARY ? len : value)

export class Reader {
  readonly c: Core
  readonly index: KeyIndex
  /** outputs of an OPT_HIT */
  value: Value = ''
  flags = 0
  stale = false
  /** diagnostics (SharedDict.readStats) */
  lockFree = 0
  retries = 0
  locked = 0
  /** no chain can be longer than the number of 64-byte heap units */
  readonly #maxSteps: number
  #scratch: Buffer = Buffer.allocUnsafe(1024)
  readonly #i32: Int32Array

  constructor(c: Core, indexKeys: number) {
    this.c = c
    this.#i32 = c.i32
    this.index = new KeyIndex(c.z, indexKeys)
    this.#maxSteps = (c.z.heapEnd - c.z.heap) >> MIN_ORDER
  }

  /** OPT_HIT (value/flags/stale set) or OPT_MISS; throws SHD_ERR_IS_A_LIST on a list. */
  read(key: string, stale: boolean): number {
    const index = this.index
    const n = index.map.get(key)
    if (n !== undefined) {
      // kept small so that it inlines into get: the SEQ-unchanged hit (keyindex.ts)
      const i32 = this.#i32
      const seq = i32[H_SEQ]!
      const w = index.hot
      const b = n * SLOT_WORDS
      if (seq === w[b + S_SEQ] && (w[b + S_KIND]! & SEQ_HIT_MASK) === NO_EXP && i32[H_LOCK] === 0 &&
        i32[H_FORMAT_ID] === index.formatId && (seq & 1) === 0) {
        this.value = index.values[n]!
        this.flags = w[b + S_FLAGS]! >>> 0
        this.stale = false
        this.lockFree++
        return OPT_HIT
      }
      const r = this.#stampHit(n, stale)
      if (r !== UNANSWERED) {
        this.lockFree++
        return r
      }
    }
    return this.#walk(key, stale)
  }

  #walk(key: string, stale: boolean): number {
    const h = hashKey(key)
    for (let i = 0; i < OPT_TRIES; i++) {
      const o = this.optRead(key, h, stale)
      if (o !== OPT_RETRY) {
        this.lockFree++
        if (o === OPT_LIST) throw isAList()
        return o
      }
      this.retries++
    }
    this.locked++
    return this.#lockedRead(key, h, stale)
  }

  /** A hit through slot `n` validated by the entry's stamp, or UNANSWERED. */
  #stampHit(n: number, stale: boolean): number {
    const index = this.index
    const c = this.c
    const i32 = c.i32
    // plain loads: each is one word, and the answer is the state at one of them (below)
    if (i32[H_LOCK] !== 0) return UNANSWERED
    const seq = i32[H_SEQ]!
    if (i32[H_FORMAT_ID] !== index.formatId) return UNANSWERED
    const w = index.hot
    const k = index.cold
    const b = n * SLOT_WORDS
    const kind = w[b + S_KIND]!
    loadFence()
    const f64 = c.f64
    const e = w[b + S_E]!
    const exp = f64[(e + E_EXP) >> 3]!
    const type = kind & TYPE_MASK
    const at = k[b + C_AT]!
    let value = index.values[n]!
    if (type === T_NUMBER) value = f64[at >> 3]!
    // a binary is copied (a fresh Uint8Array per read) before the stamp check validates it
    else if (type === T_BINARY) value = c.z.u8.slice(at, at + (value as number))
    if (i32[e >> 2] !== k[b + C_HDR] || i32[(e + E_HASH) >> 2] !== k[b + C_HASH]) return UNANSWERED
    loadFence()
    // the same write still there: the expiry and value read above are that write's
    if (i32[(e + E_STAMP) >> 2] !== k[b + C_STAMP]) return UNANSWERED
    const expired = exp !== 0 && exp <= c.now()
    if (expired && !stale) return OPT_MISS
    if (!expired) c.markRef(e)
    if ((seq & 1) === 0) {
      // validated as of the SEQ load (loads are ordered): later hits at that SEQ skip this
      w[b + S_SEQ] = seq
      w[b + S_KIND] = exp === 0 ? kind | NO_EXP : kind & ~NO_EXP
      if (type === T_NUMBER) index.values[n] = value
    }
    this.value = value
    this.flags = w[b + S_FLAGS]! >>> 0
    this.stale = expired
    return OPT_HIT
  }

  /**
   * One lock-free read attempt through the hash chain: OPT_MISS (missing, or expired unless
   * `stale`), OPT_HIT (outputs set; the entry marked referenced unless stale), OPT_LIST, or
   * OPT_RETRY (a writer is active or was: nothing was returned or cached).
   */
  optRead(key: string, h: number, stale: boolean): number {
    const c = this.c
    const i32 = c.i32
    const seq = Atomics.load(i32, H_SEQ)
    // odd: a write is under way (or its writer died); a held lock: defer to the holder
    // (as every operation did before; a live holder past lockTimeoutMs fails reads too)
    if ((seq & 1) !== 0 || Atomics.load(i32, H_LOCK) !== 0) return OPT_RETRY
    const id = i32[H_FORMAT_ID]!
    const e = findOpt(c.z, key, h, this.#maxSteps)
    if (e <= 0) {
      if (e !== 0 || !seqValid(i32, seq)) return OPT_RETRY
      this.index.forget(key)
      return OPT_MISS
    }
    const exp = c.f64[(e + E_EXP) >> 3]!
    const expired = exp !== 0 && exp <= c.now()
    if (expired && !stale) return seqValid(i32, seq) ? OPT_MISS : OPT_RETRY
    const meta = i32[(e + E_META) >> 2]!
    const type = meta >>> 16
    if (type === T_LIST) return seqValid(i32, seq) ? OPT_LIST : OPT_RETRY
    const len = i32[(e + E_VLEN) >> 2]!
    const at = e + valueOffset(meta & 0xffff)
    if (type < T_ASCII || type > T_BINARY || len < 0 || at + len > found.end ||
      (type === T_NUMBER && len !== 8) || (type === T_BOOL && len !== 1)) return OPT_RETRY
    const stamp = i32[(e + E_STAMP) >> 2]!
    const value = this.#cached(key, e, stamp, id) ?? this.#readUnlocked(type, at, len)
    const flags = i32[(e + E_FLAGS) >> 2]! >>> 0
    if (!seqValid(i32, seq)) return OPT_RETRY
    if (!expired) c.markRef(e)
    if (indexable(type, len)) this.index.remember(id, seq, key, e, stamp, type, at, kept(type, value, len), flags, exp === 0)
    this.value = value
    this.flags = flags
    this.stale = expired
    return OPT_HIT
  }

  /** The decoded string or boolean the index holds for this very write, if any. */
  #cached(key: string, e: number, stamp: number, id: number): Value | undefined {
    const index = this.index
    const n = index.map.get(key)
    if (n === undefined || index.formatId !== id) return undefined
    const b = n * SLOT_WORDS
    const w = index.hot
    const type = w[b + S_KIND]! & TYPE_MASK
    return w[b + S_E] === e && index.cold[b + C_STAMP] === stamp && (type <= T_UTF8 || type === T_BOOL)
      ? index.values[n]
      : undefined
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
    if (type !== T_UTF8) return readValue(this.c.z, type, at, len)
    let scratch = this.#scratch
    if (scratch.length < len) scratch = this.#scratch = Buffer.allocUnsafe(Math.max(len, scratch.length * 2))
    scratch.set(this.c.z.u8.subarray(at, at + len))
    return scratch.toString('utf8', 0, len)
  }

  #lockedRead(key: string, h: number, stale: boolean): number {
    const c = this.c
    c.lock()
    try {
      const i32 = c.i32
      const e = find(c.z, c, key, h)
      if (e === 0) {
        this.index.forget(key)
        return OPT_MISS
      }
      const expired = c.expired(e)
      if (expired && !stale) return OPT_MISS
      const meta = i32[(e + E_META) >> 2]!
      const type = meta >>> 16
      if (type === T_LIST) throw isAList()
      const len = i32[(e + E_VLEN) >> 2]!
      const at = e + valueOffset(meta & 0xffff)
      const stamp = i32[(e + E_STAMP) >> 2]!
      const id = i32[H_FORMAT_ID]!
      const value = this.#cached(key, e, stamp, id) ?? readValue(c.z, type, at, len)
      const flags = c.flagsOf(e)
      if (!expired) c.markRef(e)
      const noExp = !expired && c.f64[(e + E_EXP) >> 3] === 0
      if (indexable(type, len)) this.index.remember(id, i32[H_SEQ]!, key, e, stamp, type, at, kept(type, value, len), flags, noExp)
      this.value = value
      this.flags = flags
      this.stale = expired
      return OPT_HIT
    } finally {
      c.unlock()
    }
  }
}
