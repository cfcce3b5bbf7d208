/**
 * Buddy allocator inside the zone heap (nginx's slab allocator uses power-of-two chunk
 * classes too; buddies let freed space coalesce back into large blocks).
 *
 * Invariants
 * - The heap is partitioned into blocks of 2^order bytes (MIN_ORDER ≤ order ≤ maxOrder),
 *   each aligned to its size relative to `heap`. Word 0 of a block is `tag | order`.
 * - Free blocks of order k sit on the doubly linked list H_FREE+k (word 1 next, word 2
 *   prev); bit k of H_FREE_BITS is set iff that list is non-empty. H_USED = bytes in
 *   allocated blocks. All of this is derived state: `rebuildFree` recomputes it from the
 *   set of reachable blocks (recovery), so callers only mark the zone DIRTY around changes.
 * - The buddy of a block always starts a block (alignment argument), so reading its
 *   header word is meaningful; stale header words only exist inside larger blocks.
 */
import { H_FREE, H_FREE_BITS, H_USED, ORDER_MASK, TAG_FREE } from './layout.js'
import type { Zone } from './zone.js'

function pushFree(z: Zone, b: number, k: number): void {
  const i32 = z.i32
  const head = i32[H_FREE + k]!
  const w = b >> 2
  i32[w] = TAG_FREE | k
  i32[w + 1] = head
  i32[w + 2] = 0
  if (head !== 0) i32[(head >> 2) + 2] = b
  i32[H_FREE + k] = b
  i32[H_FREE_BITS] = i32[H_FREE_BITS]! | (1 << k)
}

function unlinkFree(z: Zone, b: number, k: number): void {
  const i32 = z.i32
  const w = b >> 2
  const next = i32[w + 1]!
  const prev = i32[w + 2]!
  if (prev !== 0) i32[(prev >> 2) + 1] = next
  else {
    i32[H_FREE + k] = next
    if (next === 0) i32[H_FREE_BITS] = i32[H_FREE_BITS]! & ~(1 << k)
  }
  if (next !== 0) i32[(next >> 2) + 2] = prev
}

/** Allocates a block of 2^order bytes tagged `tag`; returns its offset, or 0 when full. */
export function alloc(z: Zone, order: number, tag: number): number {
  const i32 = z.i32
  const avail = i32[H_FREE_BITS]! & (-1 << order)
  if (avail === 0) return 0
  let k = 31 - Math.clz32(avail & -avail)
  const b = i32[H_FREE + k]!
  unlinkFree(z, b, k)
  while (k > order) {
    k--
    pushFree(z, b + (1 << k), k)
  }
  i32[b >> 2] = tag | order
  i32[H_USED] = i32[H_USED]! + (1 << order)
  return b
}

/** Returns block `b` to the heap, merging it with free buddies. */
export function free(z: Zone, b: number): void {
  const i32 = z.i32
  let k = i32[b >> 2]! & ORDER_MASK
  i32[H_USED] = i32[H_USED]! - (1 << k)
  const heap = z.heap
  const heapEnd = z.heapEnd
  while (k < z.maxOrder) {
    const buddy = heap + ((b - heap) ^ (1 << k))
    if (buddy + (1 << k) > heapEnd || i32[buddy >> 2] !== (TAG_FREE | k)) break
    unlinkFree(z, buddy, k)
    if (buddy < b) b = buddy
    k++
  }
  pushFree(z, b, k)
}

/** Largest aligned block order that starts at `pos` and ends by `end`. */
function fitOrder(z: Zone, pos: number, end: number): number {
  const rel = pos - z.heap
  let k = rel === 0 ? z.maxOrder : Math.min(31 - Math.clz32(rel & -rel), z.maxOrder)
  while (pos + (1 << k) > end) k--
  return k
}

/**
 * Rebuilds free lists, H_FREE_BITS and H_USED from the allocated blocks, given as their
 * offsets in ascending order (each block's header word must hold its order). Gaps are cut
 * into maximal aligned blocks, which is exactly the state a buddy allocator would be in.
 */
export function rebuildFree(z: Zone, allocated: ArrayLike<number>): void {
  const i32 = z.i32
  for (let k = 0; k < 32; k++) i32[H_FREE + k] = 0
  i32[H_FREE_BITS] = 0
  let used = 0
  let pos = z.heap
  const n = allocated.length
  for (let i = 0; i <= n; i++) {
    const next = i < n ? allocated[i]! : z.heapEnd
    while (pos < next) {
      const k = fitOrder(z, pos, next)
      pushFree(z, pos, k)
      pos += 1 << k
    }
    if (i < n) {
      const size = 1 << (i32[next >> 2]! & ORDER_MASK)
      used += size
      pos = next + size
    }
  }
  i32[H_USED] = used
}
