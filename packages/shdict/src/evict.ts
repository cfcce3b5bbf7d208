/**
 * Making room (callers hold the zone lock): expired entries near the LRU tail go first,
 * then least recently used ones, with a second chance for entries a reader marked
 * referenced since (their reference byte, layout.ts REFS) — nginx's shdict_expire, with
 * reads marking instead of moving entries to the LRU head.
 *
 * Invariants: `protect` (the list being pushed onto) is never evicted; eviction ends even
 * when every entry is referenced (at most H_COUNT second chances per allocation).
 */
import { alloc } from './alloc.js'
import type { Core } from './core.js'
import { E_LPREV, H_COUNT, H_DIRTY, H_LRU_TAIL, MIN_ORDER } from './layout.js'
import { chainWordOf, lruPushHead, lruRemove, removeEntry } from './table.js'

/** how many LRU-tail entries an allocation failure scans for expired ones before evicting */
const EXPIRED_SCAN = 64

/** Removes up to `max` expired entries from the LRU tail (nginx's shdict_expire(ctx, 1)). */
export function expireTail(c: Core, max: number): void {
  const i32 = c.i32
  for (let i = 0; i < max; i++) {
    const e = i32[H_LRU_TAIL]!
    if (e === 0 || !c.expired(e)) return
    i32[H_DIRTY] = 1
    removeEntry(c.z, chainWordOf(c.z, e), e)
  }
}

/**
 * Allocates a block, evicting if needed: first expired entries near the LRU tail, then
 * least recently used entries, never `protect`. Sets `c.forcible` when a live entry was
 * evicted. Returns 0 when even an empty zone (but `protect`) has no room.
 */
export function allocEvicting(c: Core, order: number, tag: number, protect: number): number {
  const z = c.z
  const i32 = c.i32
  c.forcible = false
  i32[H_DIRTY] = 1
  let e = i32[H_LRU_TAIL]!
  for (let i = 0; i < EXPIRED_SCAN && e !== 0; i++) {
    const prev = i32[(e + E_LPREV) >> 2]!
    if (e !== protect && c.expired(e)) removeEntry(z, chainWordOf(z, e), e)
    e = prev
  }
  let b = alloc(z, order, tag)
  let chances = i32[H_COUNT]!
  const u8 = z.u8
  while (b === 0) {
    let victim = i32[H_LRU_TAIL]!
    if (victim === protect && victim !== 0) victim = i32[(victim + E_LPREV) >> 2]!
    if (victim === 0) return 0
    if (!c.expired(victim)) {
      const r = z.refs + ((victim - z.heap) >> MIN_ORDER)
      if (u8[r] !== 0 && chances-- > 0) {
        u8[r] = 0
        lruRemove(z, victim)
        lruPushHead(z, victim)
        continue
      }
      c.forcible = true
    }
    removeEntry(z, chainWordOf(z, victim), victim)
    b = alloc(z, order, tag)
  }
  return b
}
