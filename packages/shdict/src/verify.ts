/**
 * Structural check of a zone (diagnostics and tests): the hash chains, lists, LRU list,
 * free lists and counters must agree, and allocated + free blocks must tile the heap
 * exactly. Runs under the zone lock; returns the problems found (empty = healthy).
 */
import type { Core } from './core.js'
import {
  E_LNEXT, E_LPREV, E_META, E_NEXT, E_VLEN, H_COUNT, H_DIRTY, H_FREE, H_FREE_BITS, H_LRU_HEAD,
  H_LRU_TAIL, H_USED, L_HEAD, L_TAIL, MIN_ORDER, N_NEXT, N_PREV, ORDER_MASK, T_LIST, TAG_ENTRY,
  TAG_FREE, TAG_MASK, TAG_NODE, valueOffset,
} from './layout.js'

interface Ctx { c: Core; problems: string[]; blocks: Map<number, number> }

function block(x: Ctx, b: number, tag: number, what: string): boolean {
  const z = x.c.z
  const hdr = x.c.i32[b >> 2]!
  const k = hdr & ORDER_MASK
  if (b < z.heap || b >= z.heapEnd || (b - z.heap) % (1 << MIN_ORDER) !== 0) {
    x.problems.push(`${what} ${b}: outside the heap or misaligned`)
    return false
  }
  if ((hdr & TAG_MASK) !== tag || k < MIN_ORDER || k > z.maxOrder || (b - z.heap) % (1 << k) !== 0) {
    x.problems.push(`${what} ${b}: bad header ${hdr.toString(16)}`)
    return false
  }
  if (x.blocks.has(b)) {
    x.problems.push(`${what} ${b}: reached twice`)
    return false
  }
  x.blocks.set(b, k)
  return true
}

function checkList(x: Ctx, e: number, lh: number): void {
  const i32 = x.c.i32
  let n = i32[(lh + L_HEAD) >> 2]!
  let prev = 0
  let count = 0
  while (n !== 0) {
    if (!block(x, n, TAG_NODE, 'list node')) return
    if (i32[(n + N_PREV) >> 2] !== prev) x.problems.push(`list node ${n}: bad prev`)
    prev = n
    count++
    n = i32[(n + N_NEXT) >> 2]!
  }
  if (count === 0) x.problems.push(`list ${e}: empty list kept`)
  if (i32[(lh + L_TAIL) >> 2] !== prev) x.problems.push(`list ${e}: bad tail`)
  if (i32[(e + E_VLEN) >> 2] !== count) x.problems.push(`list ${e}: count ${i32[(e + E_VLEN) >> 2]} != ${count}`)
}

function checkChains(x: Ctx): Set<number> {
  const { c } = x
  const i32 = c.i32
  const entries = new Set<number>()
  for (let b = 0; b < c.z.nbuckets; b++) {
    let e = i32[c.z.bucketsWord + b]!
    while (e !== 0) {
      if (!block(x, e, TAG_ENTRY, 'entry')) break
      entries.add(e)
      const meta = i32[(e + E_META) >> 2]!
      if (meta >>> 16 === T_LIST) checkList(x, e, e + valueOffset(meta & 0xffff))
      e = i32[(e + E_NEXT) >> 2]!
    }
  }
  if (i32[H_COUNT] !== entries.size) x.problems.push(`H_COUNT ${i32[H_COUNT]} != ${entries.size} entries`)
  return entries
}

function checkLru(x: Ctx, entries: Set<number>): void {
  const i32 = x.c.i32
  let e = i32[H_LRU_HEAD]!
  let prev = 0
  let n = 0
  while (e !== 0 && n <= entries.size) {
    if (!entries.has(e)) {
      x.problems.push(`LRU: ${e} is not a reachable entry`)
      return
    }
    if (i32[(e + E_LPREV) >> 2] !== prev) x.problems.push(`LRU: bad prev at ${e}`)
    prev = e
    n++
    e = i32[(e + E_LNEXT) >> 2]!
  }
  if (n !== entries.size) x.problems.push(`LRU: ${n} linked, ${entries.size} entries`)
  if (i32[H_LRU_TAIL] !== prev) x.problems.push('LRU: bad tail')
}

function checkFree(x: Ctx): number {
  const { c } = x
  const i32 = c.i32
  let freeBytes = 0
  for (let k = 0; k < 32; k++) {
    let b = i32[H_FREE + k]!
    const bit = (i32[H_FREE_BITS]! >>> k) & 1
    if ((b !== 0 ? 1 : 0) !== bit) x.problems.push(`free bitmap bit ${k} wrong`)
    let prev = 0
    while (b !== 0) {
      if (!block(x, b, TAG_FREE, 'free block')) break
      if ((i32[b >> 2]! & ORDER_MASK) !== k) x.problems.push(`free block ${b} on list ${k}`)
      if (i32[(b >> 2) + 2] !== prev) x.problems.push(`free block ${b}: bad prev`)
      freeBytes += 1 << k
      prev = b
      b = i32[(b >> 2) + 1]!
    }
  }
  return freeBytes
}

export function verifyLocked(c: Core): string[] {
  const x: Ctx = { c, problems: [], blocks: new Map() }
  if (c.i32[H_DIRTY] !== 0) x.problems.push('zone is dirty')
  const entries = checkChains(x)
  checkLru(x, entries)
  const allocated = [...x.blocks.values()].reduce((s, k) => s + (1 << k), 0)
  const freeBytes = checkFree(x)
  if (c.i32[H_USED] !== allocated) x.problems.push(`H_USED ${c.i32[H_USED]} != ${allocated} allocated`)
  let pos = c.z.heap
  for (const b of [...x.blocks.keys()].sort((a, b2) => a - b2)) {
    if (b !== pos) {
      x.problems.push(`heap not tiled at ${pos} (next block ${b})`)
      break
    }
    pos = b + (1 << x.blocks.get(b)!)
  }
  if (x.problems.length === 0 && pos !== c.z.heapEnd) x.problems.push(`heap tiles end at ${pos}, not ${c.z.heapEnd}`)
  if (allocated + freeBytes !== c.z.heapEnd - c.z.heap) x.problems.push('allocated + free != heap size')
  return x.problems
}
