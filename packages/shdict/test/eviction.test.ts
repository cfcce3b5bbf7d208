// LRU eviction in a small zone: forcible is reported, the least recently used keys go
// first (a get refreshes a key), expired entries go before live ones, and safeSet/safeAdd
// refuse with 'no memory' instead of evicting.
import { beforeEach, describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'

const T0 = 1_000_000
// every entry below takes one 128-byte block: 40-byte header + 8-byte key + 60-byte value
const key = (i: number): string => `key${String(i).padStart(5, '0')}`
const val = (i: number): string => `v${i}`.padEnd(60, '.')

describe('shdict eviction', () => {
  let clock = T0
  let dict: SharedDict
  let cap = 0

  /** fills a fresh zone with exactly `cap` keys, none evicted */
  function fill(): void {
    for (let i = 0; i < cap; i++) expect(dict.set(key(i), val(i))).toEqual({ ok: true, forcible: false })
  }

  beforeEach(() => {
    clock = T0
    dict = SharedDict.create(16 * 1024, { now: () => clock })
    cap = 0
    for (let r = dict.set(key(cap), val(cap)); r.ok && !r.forcible; r = dict.set(key(cap), val(cap))) cap++
    expect(cap).toBeGreaterThan(50)
    dict = SharedDict.create(16 * 1024, { now: () => clock })
  })

  it('reports forcible once full, and evicts exactly the least recently used keys', () => {
    fill()
    expect(dict.getKeys(0)).toHaveLength(cap)
    for (let i = 0; i < 10; i++) expect(dict.get(key(i))).toBe(val(i)) // refresh the 10 oldest
    for (let i = cap; i < cap + 10; i++) expect(dict.set(key(i), val(i))).toEqual({ ok: true, forcible: true })
    for (let i = 0; i < 10; i++) expect(dict.get(key(i))).toBe(val(i))
    for (let i = 10; i < 20; i++) expect(dict.get(key(i))).toBeUndefined()
    for (let i = 20; i < cap + 10; i++) expect(dict.get(key(i))).toBe(val(i))
    expect(dict.verify()).toEqual([])
  })

  it('evicts expired entries before live ones (forcible stays false)', () => {
    for (let i = 0; i < cap; i++) dict.set(key(i), val(i), i >= 30 && i < 35 ? 1 : 0)
    for (let i = 0; i < 30; i++) dict.get(key(i)) // the expiring keys are now the LRU tail+
    clock += 1000
    for (let i = cap; i < cap + 5; i++) expect(dict.set(key(i), val(i))).toEqual({ ok: true, forcible: false })
    expect(dict.getKeys(0)).toHaveLength(cap)
    for (let i = 30; i < 35; i++) expect(dict.getStale(key(i))).toBeUndefined()
    expect(dict.set(key(cap + 5), val(cap + 5))).toEqual({ ok: true, forcible: true })
  })

  it('safeSet and safeAdd refuse with no memory and evict nothing', () => {
    fill()
    const before = new Uint8Array(dict.buffer).slice()
    expect(dict.safeSet('another', val(0))).toEqual({ ok: false, err: 'no memory' })
    expect(dict.safeAdd('another', val(0))).toEqual({ ok: false, err: 'no memory' })
    expect(Buffer.compare(new Uint8Array(dict.buffer), before)).toBe(0)
    for (let i = 0; i < cap; i++) expect(dict.get(key(i))).toBe(val(i))
    // a same-size overwrite of an existing key needs no eviction
    expect(dict.safeSet(key(3), val(99))).toEqual({ ok: true, forcible: false })
    expect(dict.get(key(3))).toBe(val(99))
  })

  it('incr with init, lpush and add also evict (forcible where reported)', () => {
    fill()
    expect(dict.incr('counter', 1, 41)).toEqual({ ok: true, value: 42, forcible: true })
    expect(dict.get(key(0))).toBeUndefined()
    expect(dict.lpush('list', 'item')).toEqual({ ok: true, length: 1 })
    expect(dict.add(key(cap), val(cap))).toEqual({ ok: true, forcible: true })
    expect(dict.get('counter')).toBe(42)
    expect(dict.lpop('list')).toBe('item')
    expect(dict.verify()).toEqual([])
  })

  it('a value bigger than the free space evicts as many entries as needed', () => {
    fill()
    const big = 'B'.repeat(4000)
    expect(dict.set('big', big)).toEqual({ ok: true, forcible: true })
    expect(dict.get('big')).toBe(big)
    expect(dict.getKeys(0).length).toBeLessThan(cap)
    dict.delete('big')
    for (const k of dict.getKeys(0)) dict.delete(k)
    expect(dict.freeSpace()).toBe(SharedDict.create(16 * 1024).freeSpace())
    expect(dict.verify()).toEqual([])
  })

  it('a pushed list is never evicted to make room for its own node', () => {
    const small = SharedDict.create(2048)
    let n = 0
    while (small.rpush('l', `item-${n}`).ok) n++
    expect(n).toBeGreaterThan(3)
    expect(small.rpush('l', 'x')).toEqual({ ok: false, err: 'no memory' })
    expect(small.llen('l')).toBe(n)
    expect(small.lpop('l')).toBe('item-0')
    expect(small.verify()).toEqual([])
  })
})
