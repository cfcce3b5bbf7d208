/**
 * Whole-zone and metadata operations: ttl, expire, flushAll, flushExpired, getKeys.
 * All run under the zone lock. flushAll follows nginx: it marks every entry expired
 * (E_EXP = -Infinity) instead of freeing, so getStale still sees the values until
 * flushExpired, eviction or an overwrite reclaims them.
 */
import type { Core } from './core.js'
import { E_EXP, E_KEY, E_LPREV, E_META, E_NEXT, H_DIRTY, H_LRU_TAIL } from './layout.js'
import { beginWrite, chainWordOf, find, removeEntry } from './table.js'

export function ttl(c: Core, key: string, h: number): number | undefined {
  c.lock()
  try {
    const e = find(c.z, c, key, h)
    if (e === 0) return undefined
    const exp = c.f64[(e + E_EXP) >> 3]!
    if (exp === 0) return 0
    const left = exp - c.now()
    return left > 0 ? left / 1000 : undefined
  } finally {
    c.unlock()
  }
}

export function expire(c: Core, key: string, h: number, ttlMs: number): boolean {
  c.lock()
  try {
    const e = find(c.z, c, key, h)
    if (e === 0 || c.expired(e)) return false
    beginWrite(c.z)
    c.f64[(e + E_EXP) >> 3] = c.expiryAt(ttlMs)
    return true
  } finally {
    c.unlock()
  }
}

/** Calls `fn` for every entry of every hash chain (the caller holds the lock). */
function forEachEntry(c: Core, fn: (e: number) => boolean | void): void {
  const i32 = c.i32
  const z = c.z
  for (let b = 0; b < z.nbuckets; b++) {
    let e = i32[z.bucketsWord + b]!
    while (e !== 0) {
      if (fn(e) === false) return
      e = i32[(e + E_NEXT) >> 2]!
    }
  }
}

export function flushAll(c: Core): void {
  c.lock()
  try {
    forEachEntry(c, (e) => {
      beginWrite(c.z)
      c.f64[(e + E_EXP) >> 3] = -Infinity
    })
  } finally {
    c.unlock()
  }
}

export function flushExpired(c: Core, max: number): number {
  c.lock()
  try {
    const i32 = c.i32
    let freed = 0
    let e = i32[H_LRU_TAIL]!
    while (e !== 0 && (max === 0 || freed < max)) {
      const prev = i32[(e + E_LPREV) >> 2]!
      if (c.expired(e)) {
        i32[H_DIRTY] = 1
        removeEntry(c.z, chainWordOf(c.z, e), e)
        freed++
      }
      e = prev
    }
    i32[H_DIRTY] = 0
    return freed
  } finally {
    c.unlock()
  }
}

export function getKeys(c: Core, max: number): string[] {
  const keys: string[] = []
  c.lock()
  try {
    const now = c.now()
    forEachEntry(c, (e) => {
      const exp = c.f64[(e + E_EXP) >> 3]!
      if (exp !== 0 && exp <= now) return true
      const klen = c.i32[(e + E_META) >> 2]! & 0xffff
      keys.push(c.z.buf.toString('utf16le', e + E_KEY, e + E_KEY + 2 * klen))
      return max === 0 || keys.length < max
    })
    return keys
  } finally {
    c.unlock()
  }
}
