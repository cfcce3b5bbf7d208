/**
 * Hash table and LRU list over the zone (all callers hold the zone lock).
 *
 * Invariants
 * - Bucket words and entry NEXT words form the hash chains, the source of truth of what the
 *   dict holds. They change only by one Atomics.store: `publish` points a chain word at a
 *   fully written entry (whose NEXT is already set), `unlink` points it past an entry.
 * - The LRU list (H_LRU_HEAD = most recent … H_LRU_TAIL = least recent, entry LPREV/LNEXT)
 *   and H_COUNT are derived; callers set DIRTY around changes to them.
 * - Every store a lock-free reader could observe is preceded by `beginWrite` (seqlock.ts).
 * - `find` leaves in `z.prevWord` the int32 index of the chain word that points at the
 *   entry it returned, valid until the chains change.
 */
import { free } from './alloc.js'
import {
  E_HASH, E_KEY, E_LNEXT, E_LPREV, E_META, E_NEXT, E_STAMP, H_COUNT, H_LRU_HEAD, H_LRU_TAIL,
  L_HEAD, N_NEXT, T_LIST, valueOffset,
} from './layout.js'
import { beginWrite } from './seqlock.js'
import type { Zone } from './zone.js'

// the writer side of the seqlock, kept reachable from here (every writer imports this module)
export { beginWrite }

/** FNV-1a over the UTF-16 code units of `key` (no encoding step on the hot path). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5 | 0
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return h ^ (h >>> 15)
}

export interface Cursor { prevWord: number }

/** Finds the entry of `key` (hash `h`); returns its offset or 0. Sets `cur.prevWord`. */
export function find(z: Zone, cur: Cursor, key: string, h: number): number {
  const i32 = z.i32
  const u16 = z.u16
  const klen = key.length
  let pw = z.bucketsWord + (h & z.bucketMask)
  let e = i32[pw]!
  while (e !== 0) {
    const w = e >> 2
    if (i32[w + (E_HASH >> 2)] === h && (i32[w + (E_META >> 2)]! & 0xffff) === klen) {
      const k = (e + E_KEY) >> 1
      let i = 0
      while (i < klen && u16[k + i] === key.charCodeAt(i)) i++
      if (i === klen) {
        cur.prevWord = pw
        return e
      }
    }
    pw = w + (E_NEXT >> 2)
    e = i32[pw]!
  }
  return 0
}

/** Word index of the chain head for hash `h`. */
export function bucketWord(z: Zone, h: number): number {
  return z.bucketsWord + (h & z.bucketMask)
}

/** Publishes entry `e` (fully written) at chain word `pw`, keeping what `pw` pointed at. */
export function publishFront(z: Zone, pw: number, e: number): void {
  z.i32[(e + E_NEXT) >> 2] = z.i32[pw]!
  beginWrite(z)
  Atomics.store(z.i32, pw, e)
}

/** Replaces entry `old` (pointed at by chain word `pw`) by the fully written entry `e`. */
export function publishReplace(z: Zone, pw: number, old: number, e: number): void {
  z.i32[(e + E_NEXT) >> 2] = z.i32[(old + E_NEXT) >> 2]!
  beginWrite(z)
  Atomics.store(z.i32, pw, e)
}

export function lruPushHead(z: Zone, e: number): void {
  const i32 = z.i32
  const head = i32[H_LRU_HEAD]!
  i32[(e + E_LPREV) >> 2] = 0
  i32[(e + E_LNEXT) >> 2] = head
  if (head !== 0) i32[(head + E_LPREV) >> 2] = e
  else i32[H_LRU_TAIL] = e
  i32[H_LRU_HEAD] = e
}

export function lruRemove(z: Zone, e: number): void {
  const i32 = z.i32
  const prev = i32[(e + E_LPREV) >> 2]!
  const next = i32[(e + E_LNEXT) >> 2]!
  if (prev !== 0) i32[(prev + E_LNEXT) >> 2] = next
  else i32[H_LRU_HEAD] = next
  if (next !== 0) i32[(next + E_LPREV) >> 2] = prev
  else i32[H_LRU_TAIL] = prev
}

/** Frees entry `e` and, for a list, its nodes. `e` must already be unreachable. */
export function freeEntry(z: Zone, e: number): void {
  const i32 = z.i32
  i32[(e + E_STAMP) >> 2] = 0 // no cache may match this block again
  const meta = i32[(e + E_META) >> 2]!
  if (meta >>> 16 === T_LIST) {
    let n = i32[(e + valueOffset(meta & 0xffff) + L_HEAD) >> 2]!
    while (n !== 0) {
      const next = i32[(n + N_NEXT) >> 2]!
      free(z, n)
      n = next
    }
  }
  free(z, e)
}

/**
 * Removes entry `e`, pointed at by chain word `pw`: unlink (one store), then the derived
 * state, then the memory. The caller holds the lock and has set DIRTY.
 */
export function removeEntry(z: Zone, pw: number, e: number): void {
  beginWrite(z)
  Atomics.store(z.i32, pw, z.i32[(e + E_NEXT) >> 2]!)
  lruRemove(z, e)
  z.i32[H_COUNT] = z.i32[H_COUNT]! - 1
  freeEntry(z, e)
}

/** Finds the chain word that points at entry `e` (for entries reached via the LRU list). */
export function chainWordOf(z: Zone, e: number): number {
  const i32 = z.i32
  let pw = bucketWord(z, i32[(e + E_HASH) >> 2]!)
  while (i32[pw] !== e) {
    const cur = i32[pw]!
    if (cur === 0) return -1
    pw = (cur + E_NEXT) >> 2
  }
  return pw
}
