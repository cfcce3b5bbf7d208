/**
 * StatsZone: per-peer counters in the statistics zone (layout.ts), written by every worker
 * with Atomics on the request path and read by any process.
 *
 * Invariants
 * - A peer's slot is found by open addressing from hash(key); slots are never freed, so the
 *   probe sequence for a key never changes and stops at the first free slot.
 * - Claiming: compareExchange(state, 0 → 1), write key length + bytes, then store state 2.
 *   A reader that meets state 1 spins (bounded) until 2; a slot left at 1 by a process killed
 *   mid-claim is skipped after CLAIM_SPIN_MS (it costs one slot, nothing else).
 * - Each process caches key → slot index; the zone stays the only source of the numbers.
 * - Full zone (PEER_SLOTS distinct peers): `slot()` returns -1 and that peer is not counted.
 */
import { CheckupsError } from '../errors.js'
import { C, COUNTER_BASE, H, KEY_BYTES, KEY_OFFSET, LAYOUT_VERSION, MAGIC, PEER_BYTES, PEER_SLOTS, PEERS_OFFSET, STATS_ZONE_BYTES } from './layout.js'

const CLAIM_SPIN_MS = 2
const SLOT_WORDS64 = PEER_BYTES / 8
const SLOT_WORDS32 = PEER_BYTES / 4
const PEER64 = PEERS_OFFSET / 8
const PEER32 = PEERS_OFFSET / 4

const enc = new TextEncoder()
const dec = new TextDecoder()

/** The peer key of a slot: skey, host and port joined by newlines (none may contain one). */
export function peerKey(skey: string, host: string, port: number): string {
  return `${skey}\n${host}\n${port}`
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193)
  return h | 0
}

export class StatsZone {
  readonly buffer: SharedArrayBuffer
  /** @internal */ readonly i32: Int32Array
  /** @internal */ readonly i64: BigInt64Array
  /** @internal */ readonly u8: Uint8Array
  readonly #slots = new Map<string, number>()

  /** Formats `buffer` when it is blank (all zero), else checks it is a statistics zone. */
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(STATS_ZONE_BYTES)) {
    if (buffer.byteLength < STATS_ZONE_BYTES) {
      throw new CheckupsError('CKP_ERR_SETUP', `statistics zone: ${buffer.byteLength} bytes, need ${STATS_ZONE_BYTES}`)
    }
    this.buffer = buffer
    this.i32 = new Int32Array(buffer)
    this.i64 = new BigInt64Array(buffer)
    this.u8 = new Uint8Array(buffer)
    if (Atomics.compareExchange(this.i32, H.MAGIC, 0, MAGIC) === 0) {
      Atomics.store(this.i32, H.VERSION, LAYOUT_VERSION)
      Atomics.store(this.i32, H.PEER_SLOTS, PEER_SLOTS)
    } else if (Atomics.load(this.i32, H.MAGIC) !== MAGIC) {
      throw new CheckupsError('CKP_ERR_SETUP', 'statistics zone: not a statistics zone (bad magic)')
    }
  }

  /** The slot index of a peer (claimed on first use), or -1 when it cannot be counted. */
  slot(skey: string, host: string, port: number): number {
    return this.#cachedFind(peerKey(skey, host, port), true)
  }

  /** The slot of a peer if some process already counted it, else -1 (never claims). */
  lookup(skey: string, host: string, port: number): number {
    return this.#cachedFind(peerKey(skey, host, port), false)
  }

  /** a found slot is remembered in this process (slots are never released) */
  #cachedFind(key: string, claim: boolean): number {
    const cached = this.#slots.get(key)
    if (cached !== undefined) return cached
    const idx = this.#find(key, claim)
    if (idx >= 0) this.#slots.set(key, idx)
    return idx
  }

  /** BigInt64 index of counter `c` of slot `idx`. */
  word(idx: number, c: number): number {
    return PEER64 + idx * SLOT_WORDS64 + COUNTER_BASE + c
  }

  add(idx: number, c: number, n: bigint): void {
    Atomics.add(this.i64, this.word(idx, c), n)
  }

  load(idx: number, c: number): number {
    return Number(Atomics.load(this.i64, this.word(idx, c)))
  }

  store(idx: number, c: number, v: number): void {
    Atomics.store(this.i64, this.word(idx, c), BigInt(Math.trunc(v)))
  }

  /** Number of peer slots in use (claimed by any process). */
  peersUsed(): number {
    return Atomics.load(this.i32, H.PEERS_USED)
  }

  #find(key: string, claim: boolean): number {
    const bytes = enc.encode(key)
    if (bytes.length > KEY_BYTES) return -1
    const hash = fnv1a(bytes)
    const start = (hash >>> 0) % PEER_SLOTS
    for (let n = 0; n < PEER_SLOTS; n++) {
      const idx = (start + n) % PEER_SLOTS
      const base = PEER32 + idx * SLOT_WORDS32
      let state = Atomics.load(this.i32, base)
      if (state === 0) {
        if (!claim) return -1
        state = Atomics.compareExchange(this.i32, base, 0, 1)
        if (state === 0) {
          this.#writeKey(idx, base, bytes, hash)
          return idx
        }
      }
      if (state === 1) state = this.#awaitClaim(base)
      if (state === 2 && this.#keyIs(idx, base, bytes, hash)) return idx
    }
    return -1
  }

  #writeKey(idx: number, base: number, bytes: Uint8Array, hash: number): void {
    this.u8.set(bytes, PEERS_OFFSET + idx * PEER_BYTES + KEY_OFFSET)
    Atomics.store(this.i32, base + 1, bytes.length)
    Atomics.store(this.i32, base + 2, hash)
    Atomics.add(this.i32, H.PEERS_USED, 1)
    Atomics.store(this.i32, base, 2)
  }

  #awaitClaim(base: number): number {
    const t0 = Date.now()
    let s = Atomics.load(this.i32, base)
    while (s === 1 && Date.now() - t0 < CLAIM_SPIN_MS) s = Atomics.load(this.i32, base)
    return s
  }

  #keyIs(idx: number, base: number, bytes: Uint8Array, hash: number): boolean {
    if (Atomics.load(this.i32, base + 2) !== hash || Atomics.load(this.i32, base + 1) !== bytes.length) return false
    const off = PEERS_OFFSET + idx * PEER_BYTES + KEY_OFFSET
    for (let i = 0; i < bytes.length; i++) if (this.u8[off + i] !== bytes[i]) return false
    return true
  }

  /** Every claimed slot's key (for diagnostics): `{ idx, skey, host, port }`. */
  claimed(): Array<{ idx: number; skey: string; host: string; port: number }> {
    const out: Array<{ idx: number; skey: string; host: string; port: number }> = []
    for (let idx = 0; idx < PEER_SLOTS; idx++) {
      const base = PEER32 + idx * SLOT_WORDS32
      if (Atomics.load(this.i32, base) !== 2) continue
      const len = Atomics.load(this.i32, base + 1)
      const off = PEERS_OFFSET + idx * PEER_BYTES + KEY_OFFSET
      const [skey = '', host = '', port = '0'] = dec.decode(this.u8.slice(off, off + len)).split('\n')
      out.push({ idx, skey, host, port: Number(port) })
    }
    return out
  }
}

export { C }
