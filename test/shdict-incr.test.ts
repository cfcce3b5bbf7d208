// Exactness across processes: 4 processes × 100 000 incr on one key (zone lock) and
// addSlot on one counter slot (lock-free Atomics) end at exactly 400 000.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { closeZoneFd, createZone } from '@checkups/shm'
import { fixture, forkChild, type Child } from '../packages/shdict/test/support/children.js'

const PROCS = 4
const N = 100_000

describe('shdict exactness across processes', () => {
  let dict: SharedDict
  const children: Child[] = []
  beforeAll(async () => {
    const zone = createZone('dict', 1 << 20)
    dict = SharedDict.create(zone.buffer)
    for (let i = 0; i < PROCS; i++) children.push(await forkChild(fixture('shdict-rpc.mjs'), [zone]))
    closeZoneFd(zone)
  })
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()))
  })

  it(`${PROCS} processes × ${N} incr end at exactly ${PROCS * N}`, async () => {
    const lasts = await Promise.all(children.map((c) => c.call<number>('incrLoop', 'hits', N, 5)))
    expect(dict.get('hits')).toBe(PROCS * N)
    expect(dict.loadSlot(5)).toBe(PROCS * N)
    // each process saw its own increments land on a growing shared counter
    for (const last of lasts) expect(last).toBeGreaterThanOrEqual(N)
    expect(Math.max(...lasts)).toBe(PROCS * N)
    expect(dict.verify()).toEqual([])
  })
})
