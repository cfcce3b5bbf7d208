/**
 * Writes: set/safeSet/add/safeAdd/replace, delete and incr, run under the zone lock.
 *
 * A new value never overwrites the bytes of a reachable entry: it is written into a fresh
 * block, then swapped into the hash chain with one store (publishReplace/publishFront), and
 * only then is the old block freed. The one in-place write is incr's float64 (a single
 * aligned 8-byte store). As in nginx, when the new block cannot be allocated the old
 * entry is dropped first to make room, so a failed safeSet leaves the key deleted.
 */
import { alloc } from './alloc.js'
import type { Encoded } from './codec.js'
import type { Core } from './core.js'
import { SharedDictError } from './errors.js'
import { allocEvicting, expireTail } from './evict.js'
import {
  E_META, H_COUNT, H_DIRTY, orderFor, T_NUMBER, TAG_ENTRY, valueOffset,
} from './layout.js'
import {
  beginWrite, bucketWord, find, freeEntry, lruPushHead, lruRemove, publishFront, publishReplace, removeEntry,
} from './table.js'

export type SetResult =
  | { readonly ok: true; readonly forcible: boolean }
  | { readonly ok: false; readonly err: 'no memory' | 'exists' | 'not found' }
export type IncrResult =
  | { readonly ok: true; readonly value: number; readonly forcible: boolean }
  | { readonly ok: false; readonly err: 'not found' | 'not a number' | 'no memory' }

export const OK: SetResult = Object.freeze({ ok: true, forcible: false })
const OK_FORCIBLE: SetResult = Object.freeze({ ok: true, forcible: true })
export const NO_MEMORY = Object.freeze({ ok: false, err: 'no memory' } as const)
const EXISTS = Object.freeze({ ok: false, err: 'exists' } as const)
const NOT_FOUND = Object.freeze({ ok: false, err: 'not found' } as const)
const NOT_A_NUMBER = Object.freeze({ ok: false, err: 'not a number' } as const)

export const MODE_SET = 0
export const MODE_ADD = 1
export const MODE_REPLACE = 2

/** Block order of an entry with a `klen`-unit key and `vlen` value bytes; throws if it can never fit. */
export function entryOrder(c: Core, klen: number, vlen: number): number {
  const bytes = valueOffset(klen) + vlen
  const order = bytes > 0x40000000 ? 31 : orderFor(bytes)
  if (order > c.z.maxOrder) {
    throw new SharedDictError('SHD_ERR_INVALID_VALUE', `entry of ${bytes} bytes can never fit this zone (largest block ${2 ** c.z.maxOrder} bytes)`)
  }
  return order
}

/**
 * Stores `key` (caller holds the lock and clears DIRTY afterwards). `type` T_LIST with `v`
 * null creates a list whose only node is `node` (already written, not yet reachable).
 * The new entry's offset is left in `stored.entry`.
 */
export function storeLocked(
  c: Core, key: string, h: number, mode: number, safe: boolean, type: number, v: Encoded | null,
  ttlMs: number, flags: number, order: number, stored: { entry: number }, node = 0,
): SetResult {
  const z = c.z
  const i32 = c.i32
  expireTail(c, 2)
  let old = find(z, c, key, h)
  const live = old !== 0 && !c.expired(old)
  if (mode === MODE_ADD && live) return EXISTS
  if (mode === MODE_REPLACE && !live) return NOT_FOUND
  i32[H_DIRTY] = 1
  let e = alloc(z, order, TAG_ENTRY)
  if (e === 0 && old !== 0) {
    removeEntry(z, c.prevWord, old)
    old = 0
    e = alloc(z, order, TAG_ENTRY)
  }
  let forcible = false
  if (e === 0 && !safe) {
    e = allocEvicting(c, order, TAG_ENTRY, 0)
    forcible = c.forcible
  }
  if (e === 0) return NO_MEMORY
  c.writeEntry(e, key, h, type, v, flags, c.expiryAt(ttlMs), node)
  if (old !== 0) {
    publishReplace(z, c.prevWord, old, e)
    lruRemove(z, old)
    freeEntry(z, old)
  } else {
    publishFront(z, bucketWord(z, h), e)
    i32[H_COUNT] = i32[H_COUNT]! + 1
  }
  lruPushHead(z, e)
  stored.entry = e
  return forcible ? OK_FORCIBLE : OK
}

const scratch = { entry: 0 }

export function store(
  c: Core, key: string, h: number, mode: number, safe: boolean, v: Encoded, ttlMs: number, flags: number,
): SetResult {
  const order = entryOrder(c, key.length, v.len)
  c.lock()
  try {
    const r = storeLocked(c, key, h, mode, safe, v.type, v, ttlMs, flags, order, scratch)
    c.i32[H_DIRTY] = 0
    return r
  } finally {
    c.unlock()
  }
}

export function del(c: Core, key: string, h: number): void {
  c.lock()
  try {
    const e = find(c.z, c, key, h)
    if (e !== 0) {
      c.i32[H_DIRTY] = 1
      removeEntry(c.z, c.prevWord, e)
      c.i32[H_DIRTY] = 0
    }
  } finally {
    c.unlock()
  }
}

/** ngx incr: live number → += n in place; missing/expired → init + n (with initTtl) or 'not found'. */
export function incr(
  c: Core, key: string, h: number, n: number, init: number | undefined, initTtlMs: number, v: Encoded,
): IncrResult {
  const order = entryOrder(c, key.length, 8)
  c.lock()
  try {
    const e = find(c.z, c, key, h)
    if (e !== 0 && !c.expired(e)) {
      const meta = c.i32[(e + E_META) >> 2]!
      if (meta >>> 16 !== T_NUMBER) return NOT_A_NUMBER
      const at = (e + valueOffset(meta & 0xffff)) >> 3
      const value = c.f64[at]! + n
      beginWrite(c.z)
      c.f64[at] = value
      c.touch(e)
      return { ok: true, value, forcible: false }
    }
    if (init === undefined) return NOT_FOUND
    v.type = T_NUMBER
    v.len = 8
    v.num = init + n
    const r = storeLocked(c, key, h, MODE_SET, false, T_NUMBER, v, initTtlMs, 0, order, scratch)
    c.i32[H_DIRTY] = 0
    return r.ok ? { ok: true, value: v.num, forcible: r.forcible } : NO_MEMORY
  } finally {
    c.unlock()
  }
}

