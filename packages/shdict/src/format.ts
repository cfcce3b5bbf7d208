/**
 * Zone formatting: writes the header, the empty bucket array and the initial free blocks,
 * and publishes MAGIC last, so a half-formatted zone never attaches.
 *
 * Invariant: every format (and every recovery, see recover.ts) writes a new H_FORMAT_ID;
 * per-process caches keyed by entry stamps (keyindex.ts) are dropped when it changes.
 */
import { rebuildFree } from './alloc.js'
import { SharedDictError } from './errors.js'
import { FORMAT_VERSION, H_BUCKETS, H_FORMAT_ID, H_HEAP, H_HEAP_END, H_MAGIC, H_MAX_ORDER, H_NBUCKETS, H_REFS, H_SIZE,
  H_VERSION, HEADER_BYTES, MAGIC, MAX_ORDER_CAP, MIN_ORDER } from './layout.js'
import { MIN_ZONE_BYTES, Zone } from './zone.js'

/** A random odd id different from `old` (0 and even values are never ids). */
export function newFormatId(old: number): number {
  let id = old
  while (id === old) id = (Math.random() * 0x7fffffff) | 1
  return id
}

/** Number of hash buckets for a zone: one per ~256 bytes, a power of two. */
function bucketCount(size: number): number {
  let n = 16
  while (n * 256 < size && n < 1 << 22) n <<= 1
  return n
}

/** Formats `sab` as an empty zone: geometry, empty buckets, the heap as free blocks, MAGIC last. */
export function formatZone(sab: SharedArrayBuffer): Zone {
  writeGeometry(sab)
  const z = new Zone(sab)
  rebuildFree(z, [])
  Atomics.store(z.i32, H_MAGIC, MAGIC)
  return z
}

function writeGeometry(sab: SharedArrayBuffer): void {
  const size = sab.byteLength
  if (size < MIN_ZONE_BYTES) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `zone size must be at least ${MIN_ZONE_BYTES} bytes, got ${size}`)
  }
  if (size > 0x7fffffc0) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `zone size must be below 2 GiB, got ${size}`)
  }
  const u8 = new Uint8Array(sab)
  const i32 = new Int32Array(sab, 0, size >>> 2)
  Atomics.store(i32, H_MAGIC, 0)
  const nb = bucketCount(size)
  const buckets = HEADER_BYTES
  const blk = 1 << MIN_ORDER
  const refs = buckets + nb * 4
  // the reference array needs one byte per heap unit: size it for the heap it would leave
  // without itself (an upper bound), then place the heap after it
  const units = Math.floor((size - Math.ceil(refs / blk) * blk) / blk)
  const heap = Math.ceil((refs + units) / blk) * blk
  const heapEnd = heap + Math.floor((size - heap) / blk) * blk
  if (heapEnd - heap < 4 * blk) {
    throw new SharedDictError('SHD_ERR_INVALID_ARG', `zone size ${size} leaves no room for entries`)
  }
  const oldId = i32[H_FORMAT_ID]! // a re-format must not reuse the id caches know
  u8.fill(0, 0, heap)
  let maxOrder = 31 - Math.clz32(heapEnd - heap)
  if (maxOrder > MAX_ORDER_CAP) maxOrder = MAX_ORDER_CAP
  i32[H_VERSION] = FORMAT_VERSION
  i32[H_SIZE] = size
  i32[H_NBUCKETS] = nb
  i32[H_BUCKETS] = buckets
  i32[H_HEAP] = heap
  i32[H_HEAP_END] = heapEnd
  i32[H_MAX_ORDER] = maxOrder
  i32[H_REFS] = refs
  i32[H_FORMAT_ID] = newFormatId(oldId)
}
