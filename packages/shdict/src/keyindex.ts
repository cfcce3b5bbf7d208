/**
 * Per-process key index: key → the entry block that held it when last read, with what that
 * entry held (its stamp, flags, the decoded value of short strings and booleans, where a
 * number or binary value lies), so a repeated read costs a Map lookup and a few loads
 * instead of hashing the key, walking its chain and decoding the value. It is also the only
 * string cache: a read through the hash chain takes the decoded string from here when the
 * stamps agree.
 *
 * Two ways a slot is proved current:
 * - SEQ (seqlock.ts) still reads the even value it had when the slot was validated, and
 *   the entry never expires: no reader-visible store has happened since, so everything the
 *   slot recorded (including a number's value and the entry's reference byte, set by that
 *   validation) still holds. A hit then touches no zone memory but header words. (Not for
 *   binaries: each read returns a fresh copy, which the stamp check below validates.)
 * - Otherwise the entry's stamp, loaded last (see below).
 *
 * Why a matching stamp proves the slot current (layout.ts STAMP): every entry write takes
 * a stamp unique within the zone's format, and the bytes of an entry never change under
 * its stamp except the expiry and a number's float64 (both re-read on every hit, like a
 * binary's bytes, before the stamp); freeing
 * an entry zeroes its stamp before the block can be reused (table.ts freeEntry). So while
 * the block at `e` still shows the stamp, it is that very write, still reachable. Two cases
 * escape that argument and change H_FORMAT_ID instead, which empties the index: a
 * re-format (format.ts) and a recovery (a dead writer may have unlinked an entry without
 * zeroing its stamp; recover.ts). The entry's header word (tag | order) and key hash are
 * compared too: once freed, the block's memory may hold key or value bytes of a larger
 * block at those offsets, and all three words matching is what it would take to be fooled. Stamps and SEQ are
 * 32-bit counters: a slot left unread for 2^31 writes and read exactly when the counter
 * comes back to its value is the one case the argument does not cover.
 *
 * Layout: the Map holds a slot number per key; a slot is 4 int32 words the SEQ-unchanged
 * hit reads (`hot`, S_*), 4 the stamp check reads (`cold`, C_*) and its decoded value in a
 * parallel array, so slots sit side by side in memory instead of as objects scattered over
 * the JS heap (at 100 000 keys the scattered objects cost more than the Map lookup itself).
 *
 * Invariants: S_SEQ is even or NO_SEQ; at most `max` slots (full → start over, so memory
 * stays bounded); slots only describe reads validated under the format id the index holds;
 * a key keeps its slot when re-read (no allocation in steady state).
 */
import type { Value } from './codec.js'
import { E_HASH, T_BINARY } from './layout.js'
import type { Zone } from './zone.js'

/** strings up to this many bytes are kept decoded (the old string cache's bound) */
export const INDEX_MAX_STRING_BYTES = 256
export const DEFAULT_INDEX_KEYS = 1 << 17

// slot words, SLOT_WORDS per slot in `hot` and in `cold`
export const SLOT_WORDS = 4
/** hot: the even SEQ the slot was last validated at, or NO_SEQ */
export const S_SEQ = 0
/** hot: value type | NO_EXP when the entry never expires */
export const S_KIND = 1
/** hot: the entry's flags as an int32 (readers return `>>> 0`) */
export const S_FLAGS = 2
/** hot: entry block offset */
export const S_E = 3
/** cold: the entry's stamp, header word (tag | order) and key hash word */
export const C_STAMP = 0
export const C_HDR = 1
export const C_HASH = 2
/** cold: byte offset of the value (numbers are re-read from it) */
export const C_AT = 3
export const NO_EXP = 0x100
/** S_KIND: the value is copied from the zone on every hit (binary), never answered by SEQ alone */
export const COPY = 0x200
/** S_KIND bits that allow the SEQ-unchanged hit: NO_EXP set, COPY clear */
export const SEQ_HIT_MASK = NO_EXP | COPY
export const TYPE_MASK = 0xff
/** S_SEQ before any validation: odd, and the fast check also wants SEQ even */
const NO_SEQ = 1
const FIRST_SLOTS = 256

export class KeyIndex {
  readonly map = new Map<string, number>()
  hot = new Int32Array(FIRST_SLOTS * SLOT_WORDS)
  cold = new Int32Array(FIRST_SLOTS * SLOT_WORDS)
  /** per slot: the decoded string or boolean, a number's last value, a binary's length */
  values: Value[] = new Array<Value>(FIRST_SLOTS).fill('')
  /** the H_FORMAT_ID the slots were validated under (0: none yet) */
  formatId = 0
  #next = 0
  readonly #max: number
  readonly #z: Zone

  constructor(z: Zone, max: number) {
    this.#z = z
    this.#max = max
  }

  /**
   * Records a validated read of `key`: entry `e` with `stamp`, read while the zone's format
   * id was `id` and SEQ was `seq` (odd: unknown); the caller marked the entry referenced.
   */
  remember(id: number, seq: number, key: string, e: number, stamp: number, type: number, at: number,
    value: Value, flags: number, noExp: boolean): void {
    if (this.#max === 0 || id === 0 || stamp === 0) return
    const map = this.map
    if (id !== this.formatId) {
      this.#clear()
      this.formatId = id
    }
    let n = map.get(key)
    if (n === undefined) {
      if (this.#next >= this.#max) this.#clear()
      n = this.#next++
      if (n === this.values.length) this.#grow()
      map.set(key, n)
    }
    const w = this.hot
    const k = this.cold
    const b = n * SLOT_WORDS
    const i32 = this.#z.i32
    w[b + S_SEQ] = (seq & 1) === 0 ? seq : NO_SEQ
    w[b + S_KIND] = type | (noExp ? NO_EXP : 0) | (type === T_BINARY ? COPY : 0)
    w[b + S_FLAGS] = flags | 0
    w[b + S_E] = e
    k[b + C_STAMP] = stamp
    k[b + C_HDR] = i32[e >> 2]!
    k[b + C_HASH] = i32[(e + E_HASH) >> 2]!
    k[b + C_AT] = at
    this.values[n] = value
  }

  /** Drops `key` (its entry is gone); its slot is reclaimed at the next start-over. */
  forget(key: string): void {
    if (this.map.size !== 0) this.map.delete(key)
  }

  #clear(): void {
    this.map.clear()
    this.#next = 0
    this.values.fill('')
  }

  #grow(): void {
    const slots = Math.min(this.values.length * 2, Math.max(this.#max, FIRST_SLOTS))
    const hot = new Int32Array(slots * SLOT_WORDS)
    hot.set(this.hot)
    this.hot = hot
    const cold = new Int32Array(slots * SLOT_WORDS)
    cold.set(this.cold)
    this.cold = cold
    const values = new Array<Value>(slots).fill('')
    for (let i = 0; i < this.values.length; i++) values[i] = this.values[i]!
    this.values = values
  }
}
