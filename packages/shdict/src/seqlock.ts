/**
 * Seqlock: lock-free reads of a zone that one lock holder at a time may be rewriting.
 *
 * Writer side: the lock holder makes H_SEQ odd right before its first store that a reader
 * could observe (`beginWrite`) and even again (+1) when it releases the lock (zonelock.ts),
 * so every such store happens while SEQ is odd and every critical section that made one
 * changes SEQ. Critical sections that change nothing readers look at (a failed safeSet,
 * llen, ttl…) leave SEQ, and every byte, untouched. Blocks nobody can reach (a fresh
 * allocation being filled, free-list links) need no call: a reader can only be inside a
 * block unlinked in a critical section its snapshot spans.
 *
 * Reader side: read SEQ (must be even) and the lock word (must be free: readers defer to a
 * holder, as when every read took the lock), look the key up (`findOpt`) and copy the value
 * with plain reads range-checked at every step (a torn snapshot may show garbage: every
 * offset is checked against the heap and its block, loops are bounded, nothing is thrown or
 * cached before validation), then re-read SEQ (`seqValid`): unchanged means the snapshot was
 * consistent; otherwise retry, and finally take the lock.
 */
import {
  E_HASH, E_KEY, E_META, E_NEXT, H_SEQ, MIN_ORDER, ORDER_MASK, TAG_ENTRY, TAG_MASK,
} from './layout.js'
import type { Zone } from './zone.js'

/** lock-free read results */
export const OPT_MISS = 0
export const OPT_HIT = 1
/** the snapshot was inconsistent (or a writer holds the lock): retry, then lock */
export const OPT_RETRY = 2
/** the key holds a list (validated) */
export const OPT_LIST = 3

/**
 * x86 keeps loads in order (and V8 keeps them in program order around Atomics), so the
 * closing Atomics.load of SEQ needs no fence there. Elsewhere (arm64: a load-acquire does
 * not hold back earlier plain loads) an atomic read-modify-write of a private word, whose
 * release half orders the loads before it, serves as the fence.
 */
const NEEDS_FENCE = process.arch !== 'x64' && process.arch !== 'ia32'
const fenceWord = new Int32Array(new SharedArrayBuffer(4))

/** Orders the plain loads before it ahead of the loads after it (a no-op on x86). */
export function loadFence(): void {
  if (NEEDS_FENCE) Atomics.add(fenceWord, 0, 0)
}

/** Writer side: the lock holder, right before a store a lock-free reader could observe. */
export function beginWrite(z: Zone): void {
  // an RMW rather than a store: on weakly ordered CPUs its acquire half keeps the writes
  // that follow from becoming visible before it (on x86 it costs the same as a store)
  if ((z.i32[H_SEQ]! & 1) === 0) Atomics.add(z.i32, H_SEQ, 1)
}

/** Reader side: true when SEQ still reads `seq` (the snapshot taken since is consistent). */
export function seqValid(i32: Int32Array, seq: number): boolean {
  loadFence()
  return Atomics.load(i32, H_SEQ) === seq
}

/** where findOpt leaves the end of the block it returned */
export const found = { end: 0 }

/**
 * Lock-free lookup: the entry of `key` (hash `h`) or 0, or -1 when the snapshot is visibly
 * torn. Every offset is range-checked before use and the walk takes at most `maxSteps`
 * steps; sets `found.end` to the block's end. Reads only.
 */
export function findOpt(z: Zone, key: string, h: number, maxSteps: number): number {
  const i32 = z.i32
  const u16 = z.u16
  const heap = z.heap
  const heapEnd = z.heapEnd
  const maxOrder = z.maxOrder
  const klen = key.length
  let steps = maxSteps
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
        found.end = e + (1 << order)
        return e
      }
    }
    e = i32[w + (E_NEXT >> 2)]!
  }
  return 0
}
