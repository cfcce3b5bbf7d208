/**
 * Recovery: rebuilds every derived structure from the hash chains, after a lock holder
 * died (or threw) with DIRTY set.
 *
 * What is trusted: bucket words, entry NEXT words, list HEAD words and node NEXT words —
 * each only ever changed by one store publishing a fully written block or skipping one.
 * What is rebuilt: list TAIL/count and node PREV words, H_COUNT, the LRU list (keeping
 * the surviving order of the old list where it still links reachable entries), the free
 * lists and H_USED (blocks nobody reaches — a dead writer's unpublished or half-freed
 * blocks — become free again). Recovery is idempotent, so a crash inside it is repaired
 * by the next one. Recovery also writes a new H_FORMAT_ID: a block it frees may keep the
 * stamp of an entry a dead writer unlinked, so per-process indexes (keyindex.ts), which
 * trust a matching stamp, start over.
 */
import { rebuildFree } from './alloc.js'
import { newFormatId } from './format.js'
import {
  E_LNEXT, E_LPREV, E_META, E_NEXT, E_VLEN, H_COUNT, H_DIRTY, H_FORMAT_ID, H_LRU_HEAD, H_LRU_TAIL,
  H_RECOVERIES, L_HEAD, L_TAIL, N_NEXT, N_PREV, T_LIST, valueOffset,
} from './layout.js'
import { beginWrite } from './seqlock.js'
import type { Zone } from './zone.js'

/** Collects reachable entries (in chain order) and all reachable blocks. */
function collect(z: Zone, entries: number[], blocks: number[]): void {
  const i32 = z.i32
  const limit = (z.heapEnd - z.heap) >> 6 // no more blocks than that can exist
  for (let b = 0; b < z.nbuckets; b++) {
    let e = i32[z.bucketsWord + b]!
    while (e !== 0 && blocks.length <= limit) {
      entries.push(e)
      blocks.push(e)
      const meta = i32[(e + E_META) >> 2]!
      if (meta >>> 16 === T_LIST) collectList(z, e + valueOffset(meta & 0xffff), e, blocks, limit)
      e = i32[(e + E_NEXT) >> 2]!
    }
  }
}

/** Walks a list's forward chain, fixing PREV words, TAIL and the count. */
function collectList(z: Zone, lh: number, e: number, blocks: number[], limit: number): void {
  const i32 = z.i32
  let prev = 0
  let n = i32[(lh + L_HEAD) >> 2]!
  let count = 0
  while (n !== 0 && blocks.length <= limit) {
    blocks.push(n)
    i32[(n + N_PREV) >> 2] = prev
    prev = n
    count++
    n = i32[(n + N_NEXT) >> 2]!
  }
  i32[(lh + L_TAIL) >> 2] = prev
  i32[(e + E_VLEN) >> 2] = count
}

/** Relinks the LRU list: surviving old order first, then entries the old list lost. */
function rebuildLru(z: Zone, entries: number[]): void {
  const i32 = z.i32
  const live = new Set(entries)
  const order: number[] = []
  const seen = new Set<number>()
  let e = i32[H_LRU_HEAD]!
  while (e !== 0 && live.has(e) && !seen.has(e)) {
    seen.add(e)
    order.push(e)
    e = i32[(e + E_LNEXT) >> 2]!
  }
  for (const x of entries) if (!seen.has(x)) order.push(x)
  let prev = 0
  for (const x of order) {
    i32[(x + E_LPREV) >> 2] = prev
    if (prev !== 0) i32[(prev + E_LNEXT) >> 2] = x
    prev = x
  }
  if (prev !== 0) i32[(prev + E_LNEXT) >> 2] = 0
  i32[H_LRU_HEAD] = order[0] ?? 0
  i32[H_LRU_TAIL] = prev
  i32[H_COUNT] = order.length
}

/** Rebuilds all derived state. The caller holds the zone lock. */
export function recover(z: Zone): void {
  const i32 = z.i32
  i32[H_DIRTY] = 1
  beginWrite(z) // rewrites words of reachable entries (list counts)
  const entries: number[] = []
  const blocks: number[] = []
  collect(z, entries, blocks)
  rebuildLru(z, entries)
  blocks.sort((a, b) => a - b)
  rebuildFree(z, blocks)
  i32[H_RECOVERIES] = i32[H_RECOVERIES]! + 1
  i32[H_FORMAT_ID] = newFormatId(i32[H_FORMAT_ID]!)
  Atomics.store(i32, H_DIRTY, 0)
}
