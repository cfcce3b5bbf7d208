/**
 * Lists (ngx.shared.DICT lpush/rpush/lpop/rpop/llen), under the zone lock.
 *
 * A list entry's value area holds [HEAD, TAIL]; nodes are separate blocks chained by NEXT
 * (source of truth) with PREV/TAIL/count derived. Publishing: lpush writes the node with
 * NEXT = old head, then stores HEAD; rpush stores the old tail's NEXT. Popping stores HEAD
 * (or the new tail's NEXT = 0) before freeing the node. Popping the last item deletes the
 * key, as nginx does. A new list is published with its first node already linked.
 */
import { alloc, free } from './alloc.js'
import { readValue, writeValue, type Encoded, type Value } from './codec.js'
import type { Core } from './core.js'
import { SharedDictError } from './errors.js'
import { allocEvicting } from './evict.js'
import {
  E_META, E_VLEN, H_DIRTY, L_HEAD, L_TAIL, LIST_HEADER_BYTES, N_NEXT, N_PREV, N_TYPE, N_VALUE,
  N_VLEN, orderFor, T_LIST, TAG_NODE, valueOffset,
} from './layout.js'
import { entryOrder, MODE_SET, NO_MEMORY, storeLocked } from './store.js'
import { beginWrite, find, removeEntry } from './table.js'

export type PushResult =
  | { readonly ok: true; readonly length: number }
  | { readonly ok: false; readonly err: 'value not a list' | 'no memory' }

const NOT_A_LIST = Object.freeze({ ok: false, err: 'value not a list' } as const)
const stored = { entry: 0 }

function notAList(): SharedDictError {
  return new SharedDictError('SHD_ERR_NOT_A_LIST', 'value not a list')
}

function allocNode(c: Core, order: number, protect: number): number {
  return alloc(c.z, order, TAG_NODE) || allocEvicting(c, order, TAG_NODE, protect)
}

export function push(c: Core, key: string, h: number, v: Encoded, left: boolean): PushResult {
  const nodeOrder = orderFor(N_VALUE + v.len)
  if (nodeOrder > c.z.maxOrder) entryOrder(c, 0, N_VALUE + v.len) // throws "can never fit"
  const order = entryOrder(c, key.length, LIST_HEADER_BYTES)
  c.lock()
  try {
    const r = pushLocked(c, key, h, v, left, nodeOrder, order)
    c.i32[H_DIRTY] = 0
    return r
  } finally {
    c.unlock()
  }
}

function writeNode(c: Core, n: number, v: Encoded, next: number, prev: number): void {
  const i32 = c.i32
  i32[(n + N_NEXT) >> 2] = next
  i32[(n + N_PREV) >> 2] = prev
  i32[(n + N_TYPE) >> 2] = v.type
  i32[(n + N_VLEN) >> 2] = v.len
  writeValue(c.z, n + N_VALUE, v)
}

function pushLocked(c: Core, key: string, h: number, v: Encoded, left: boolean, nodeOrder: number, order: number): PushResult {
  const i32 = c.i32
  const e = find(c.z, c, key, h)
  if (e !== 0 && !c.expired(e)) {
    const meta = i32[(e + E_META) >> 2]!
    if (meta >>> 16 !== T_LIST) return NOT_A_LIST
    c.touch(e)
    i32[H_DIRTY] = 1
    const n = allocNode(c, nodeOrder, e)
    if (n === 0) return NO_MEMORY
    const lh = e + valueOffset(meta & 0xffff)
    const head = i32[(lh + L_HEAD) >> 2]!
    const tail = i32[(lh + L_TAIL) >> 2]!
    beginWrite(c.z) // the list's HEAD/NEXT words and count change in place
    if (left) {
      writeNode(c, n, v, head, 0)
      Atomics.store(i32, (lh + L_HEAD) >> 2, n)
      i32[(head + N_PREV) >> 2] = n
    } else {
      writeNode(c, n, v, 0, tail)
      Atomics.store(i32, (tail + N_NEXT) >> 2, n)
      i32[(lh + L_TAIL) >> 2] = n
    }
    const length = i32[(e + E_VLEN) >> 2]! + 1
    i32[(e + E_VLEN) >> 2] = length
    return { ok: true, length }
  }
  i32[H_DIRTY] = 1
  const n = allocNode(c, nodeOrder, 0)
  if (n === 0) return NO_MEMORY
  writeNode(c, n, v, 0, 0)
  const r = storeLocked(c, key, h, MODE_SET, false, T_LIST, null, 0, 0, order, stored, n)
  if (!r.ok) {
    free(c.z, n)
    return NO_MEMORY
  }
  return { ok: true, length: 1 }
}

export function pop(c: Core, key: string, h: number, left: boolean): Value | undefined {
  c.lock()
  try {
    const r = popLocked(c, key, h, left)
    c.i32[H_DIRTY] = 0
    return r
  } finally {
    c.unlock()
  }
}

function popLocked(c: Core, key: string, h: number, left: boolean): Value | undefined {
  const i32 = c.i32
  const e = find(c.z, c, key, h)
  if (e === 0 || c.expired(e)) return undefined
  const meta = i32[(e + E_META) >> 2]!
  if (meta >>> 16 !== T_LIST) throw notAList()
  const lh = e + valueOffset(meta & 0xffff)
  const head = i32[(lh + L_HEAD) >> 2]!
  const tail = i32[(lh + L_TAIL) >> 2]!
  const n = left ? head : tail
  const value = readValue(c.z, i32[(n + N_TYPE) >> 2]!, n + N_VALUE, i32[(n + N_VLEN) >> 2]!)
  i32[H_DIRTY] = 1
  beginWrite(c.z)
  if (head === tail) {
    removeEntry(c.z, c.prevWord, e)
    return value
  }
  if (left) {
    const next = i32[(n + N_NEXT) >> 2]!
    Atomics.store(i32, (lh + L_HEAD) >> 2, next)
    i32[(next + N_PREV) >> 2] = 0
  } else {
    const prev = i32[(n + N_PREV) >> 2]!
    Atomics.store(i32, (prev + N_NEXT) >> 2, 0)
    i32[(lh + L_TAIL) >> 2] = prev
  }
  i32[(e + E_VLEN) >> 2] = i32[(e + E_VLEN) >> 2]! - 1
  free(c.z, n)
  c.touch(e)
  return value
}

export function llen(c: Core, key: string, h: number): number {
  c.lock()
  try {
    const e = find(c.z, c, key, h)
    if (e === 0 || c.expired(e)) return 0
    if (c.i32[(e + E_META) >> 2]! >>> 16 !== T_LIST) throw notAList()
    return c.i32[(e + E_VLEN) >> 2]!
  } finally {
    c.unlock()
  }
}
