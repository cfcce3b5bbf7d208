import { describe, expect, it } from 'vitest'
import { SharedDict } from '../src/index.js'

describe('slotWords', () => {
  it('is a live view of the counter slots, seen through another handle on the zone', () => {
    const a = SharedDict.create(1 << 16)
    const b = SharedDict.attach(a.buffer)
    const words = b.slotWords()
    expect(words.length).toBe(16)
    a.storeSlot(0, 7)
    a.addSlot(15, -3)
    expect(words[0]).toBe(7)
    expect(words[15]).toBe(-3)
    for (let i = 0; i < 16; i++) expect(words[i]).toBe(b.loadSlot(i))
    a.set('k', 'v') // data writes leave the slots alone
    expect(words[0]).toBe(7)
  })
})
