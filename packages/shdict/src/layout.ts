/**
 * Zone layout. Everything is little-endian, offsets are byte offsets from the start of the
 * SharedArrayBuffer, and a pointer value of 0 means "none" (offset 0 is the header).
 *
 * ```
 * [ header 512 B ][ buckets: nbuckets × int32 ][ refs: 1 byte per 64-byte heap unit ][ pad to 64 ][ heap … ]
 * ```
 *
 * Header words (int32 index):
 * - MAGIC/VERSION: written last by `format`, so a half-formatted zone never attaches.
 * - LOCK: pid of the process holding the zone lock, 0 when free (ngx_shmtx style).
 * - DIRTY: 1 while the lock holder is changing derived structures (free lists, LRU list,
 *   USED); a lock stolen from a dead holder with DIRTY set triggers recovery.
 * - USED, LRU_HEAD/LRU_TAIL, FREE_BITS, FREE heads: *derived* state, rebuilt by recovery
 *   from the hash chains. The hash chains (buckets + entry NEXT words) and list node chains
 *   are the source of truth: they only ever change by ONE Atomics.store of a pointer to a
 *   fully written block (publish) or past a block (unlink).
 * - SLOTS: 16 int32 counters outside the key space, only touched with Atomics (no lock).
 * - SEQ: seqlock word for lock-free readers (see seqlock.ts): odd while the zone lock is held
 *   (set right after taking it, made even right before releasing it), so every change to
 *   anything a reader looks at happens while SEQ is odd, and every lock hold changes it.
 * - REFS: byte offset of the reference-bit array (one byte per 64-byte heap unit, indexed by
 *   (block - heap) >> 6): a reader sets a block's byte when it reads that entry; eviction
 *   gives a referenced LRU-tail entry a second chance (moves it to the head, clears the
 *   byte). Advisory only: a stale set on a reused block merely grants a spurious chance.
 * - STAMP/FORMAT_ID: every entry write takes a fresh stamp; an entry's bytes never change
 *   under the same stamp (except its expiry and a number's float64), and freeing an entry
 *   zeroes its stamp, so a process may keep what it read keyed by (block, stamp) — see
 *   keyindex.ts. Each format and each recovery writes a new FORMAT_ID, dropping those.
 *
 * Blocks (buddy allocator, sizes 2^order, aligned to their size relative to the heap start):
 * word 0 of every block is its header `tag | order`. Free blocks: word 1 next, word 2 prev
 * (doubly linked per order). Entry and list-node layouts are below.
 */
export const MAGIC = 0x31444853 // 'SHD1'
export const FORMAT_VERSION = 2

// header word indexes
export const H_MAGIC = 0
export const H_VERSION = 1
export const H_LOCK = 2
export const H_DIRTY = 3
export const H_SIZE = 4
export const H_NBUCKETS = 5
export const H_BUCKETS = 6
export const H_HEAP = 7
export const H_HEAP_END = 8
export const H_USED = 9
export const H_LRU_HEAD = 10
export const H_LRU_TAIL = 11
export const H_COUNT = 12
export const H_RECOVERIES = 13
export const H_MAX_ORDER = 14
export const H_FREE_BITS = 15
/** free-list heads, indexed by order (0..31) */
export const H_FREE = 16
export const H_SLOTS = 48
export const SLOT_COUNT = 16
/** last entry stamp handed out (0 is never a stamp) */
export const H_STAMP = 64
/** random id written by each format and each recovery, so per-process caches notice */
export const H_FORMAT_ID = 65
/** seqlock word: odd while the zone lock is held (seqlock.ts) */
export const H_SEQ = 66
/** byte offset of the reference-bit array */
export const H_REFS = 67
export const HEADER_BYTES = 512

export const MIN_ORDER = 6 // 64-byte blocks: the smallest that holds an entry header + short key
export const MAX_ORDER_CAP = 30

// block header tags (word 0 = tag | order)
export const TAG_MASK = 0xff00
export const ORDER_MASK = 0xff
export const TAG_FREE = 0x0100
export const TAG_ENTRY = 0x0200
export const TAG_NODE = 0x0300

// entry: a key and its value (or list header). Byte offsets inside the block.
export const E_NEXT = 4 // hash-chain next (source of truth)
export const E_LPREV = 8 // LRU towards head (derived)
export const E_LNEXT = 12 // LRU towards tail (derived)
export const E_HASH = 16
export const E_META = 20 // key length in UTF-16 units (low 16 bits) | value type << 16
export const E_VLEN = 24 // value byte length; for lists the node count (derived)
export const E_FLAGS = 28
export const E_EXP = 32 // float64 ms since epoch; 0 = never; -Infinity = flushed
export const E_STAMP = 40 // unique per entry write (per format); 0 once freed
export const E_KEY = 44 // key as UTF-16 code units; value follows at align8
// list entries keep [head, tail] node pointers in their value area
export const L_HEAD = 0 // forward chain start (source of truth)
export const L_TAIL = 4 // derived
export const LIST_HEADER_BYTES = 8

// list node
export const N_NEXT = 4 // forward chain (source of truth)
export const N_PREV = 8 // derived
export const N_TYPE = 12
export const N_VLEN = 16
export const N_VALUE = 24

// value types
export const T_ASCII = 1
export const T_UTF8 = 2
export const T_NUMBER = 3
export const T_BOOL = 4
export const T_BINARY = 5
export const T_LIST = 6

const align8 = (n: number): number => (n + 7) & ~7

/** byte offset of an entry's value area for a key of `klen` UTF-16 units */
export const valueOffset = (klen: number): number => align8(E_KEY + 2 * klen)

/** smallest order whose block holds `bytes` */
export function orderFor(bytes: number): number {
  if (bytes <= 1 << MIN_ORDER) return MIN_ORDER
  return 32 - Math.clz32(bytes - 1)
}
