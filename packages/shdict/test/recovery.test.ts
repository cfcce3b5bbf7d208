// In-process recovery: an exception thrown half-way through a structural change (here by
// the injected clock, called while evicting) is repaired before the lock is released.
import { describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'

describe('shdict recovery after a throw inside the critical section', () => {
  it('leaves a consistent zone, releases the lock and keeps every value', () => {
    let boom = false
    let header: Int32Array | undefined
    const H_DIRTY = 3 // header word (src/layout.ts): set while derived state is being changed
    const clock = (): number => {
      if (boom && header?.[H_DIRTY] === 1) throw new Error('clock failed')
      return 1_000_000
    }
    const dict = SharedDict.create(8 * 1024, { now: clock })
    header = new Int32Array(dict.buffer, 0, 16)
    let n = 0
    for (let r = dict.set(`key${n}`, 'x'.repeat(50), 100); r.ok && !r.forcible; r = dict.set(`key${n}`, 'x'.repeat(50), 100)) n++
    const before = new Map(dict.getKeys(0).map((k) => [k, dict.get(k)]))
    boom = true
    expect(() => dict.set('new', 'y'.repeat(50), 100)).toThrow('clock failed')
    boom = false
    expect(dict.lockOwner()).toBe(0)
    expect(dict.verify()).toEqual([])
    expect(dict.stats().recoveries).toBe(1)
    // whatever was evicted before the throw is gone; everything else is intact
    for (const k of dict.getKeys(0)) expect(dict.get(k)).toBe(before.get(k))
    expect(dict.set('new', 'y'.repeat(50), 100).ok).toBe(true)
    expect(dict.verify()).toEqual([])
  })
})
