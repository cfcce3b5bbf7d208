import { describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { Checkups } from '@checkups/core'
import { EDF_MIN_PEERS, EdfRoundRobin, createEdfRoundRobin } from '../src/balancer/wrr-edf.js'
import { balancerCases } from './balancer.case.js'

balancerCases({ name: 'round-robin, heap scheduler', create: createEdfRoundRobin, key: () => '' })

const peers = (weights: number[]) => weights.map((weight, i) => ({ id: `p${i}`, weight }))

describe('heap round-robin', () => {
  it('equal weights: plain round-robin in list order', () => {
    const b = new EdfRoundRobin(peers([2, 2, 2, 2]))
    const all = new Uint8Array(4).fill(1)
    expect(Array.from({ length: 8 }, () => b.pick(all))).toEqual([0, 1, 2, 3, 0, 1, 2, 3])
  })

  it('a large level: exact shares by weight over a whole period, down peers skipped, shares kept among the rest', () => {
    const n = 1000
    const w = Array.from({ length: n }, (_, i) => 1 + (i % 3))
    const b = new EdfRoundRobin(peers(w))
    const avail = new Uint8Array(n).fill(1)
    const total = w.reduce((a, x) => a + x, 0)
    const counts = new Array<number>(n).fill(0)
    for (let i = 0; i < total * 10; i++) counts[b.pick(avail)]! += 1
    counts.forEach((c, i) => expect(c).toBe(w[i]! * 10))
    for (let i = 0; i < n; i += 10) avail[i] = 0 // every 10th peer down
    b.availChanged(avail) // what the worker view does after rewriting a level's avail
    const up = w.reduce((a, x, i) => (i % 10 === 0 ? a : a + x), 0)
    counts.fill(0)
    for (let i = 0; i < up * 10; i++) counts[b.pick(avail)]! += 1
    counts.forEach((c, i) => {
      if (i % 10 === 0) expect(c).toBe(0)
      else expect(Math.abs(c - w[i]! * 10)).toBeLessThanOrEqual(Math.ceil(w[i]! * 10 * 0.15))
    })
  })

  it('nearly all down: only the available peers, through the heap; a per-call copy with exclusions is honoured too', () => {
    const n = 2000
    const b = new EdfRoundRobin(peers(new Array<number>(n).fill(1)))
    const avail = new Uint8Array(n)
    avail[7] = 1
    avail[1500] = 1
    b.availChanged(avail)
    const seen = Array.from({ length: 6 }, () => b.pick(avail))
    expect(seen).toEqual([7, 1500, 7, 1500, 7, 1500])
    const copy = avail.slice()
    copy[7] = 0 // excluded for this call
    expect(b.pick(copy)).toBe(1500)
    expect(b.pick(new Uint8Array(n))).toBe(-1)
    avail.fill(0)
    b.availChanged(avail)
    expect(b.pick(avail)).toBe(-1)
    avail[3] = 1 // back up: scheduled from now on, picked
    b.availChanged(avail)
    expect(b.pick(avail)).toBe(3)
  })

  it('a failed peer is picked less, then recovers its weight', () => {
    const b = new EdfRoundRobin(peers([8, 8]))
    const all = new Uint8Array(2).fill(1)
    b.report(0, true)
    b.report(0, true) // ew 8 → 4 → 2
    const first = Array.from({ length: 6 }, () => b.pick(all))
    expect(first.filter((i) => i === 0).length).toBeLessThan(3)
    const counts = [0, 0]
    for (let i = 0; i < 1600; i++) counts[b.pick(all)]! += 1
    expect(Math.abs(counts[0]! - counts[1]!)).toBeLessThan(40)
  })
})

describe('the worker view picks it for large round-robin levels only', () => {
  it(`a ${EDF_MIN_PEERS * 4}-server upstream spreads by weight; a small one keeps nginx's sequence`, () => {
    const big = Array.from({ length: EDF_MIN_PEERS * 4 }, (_, i) => ({ host: '127.0.0.1', port: 20000 + i, weight: 1 + (i % 2) }))
    const config = {
      big: { cluster: [{ servers: big }] },
      small: { cluster: [{ servers: [{ host: '127.0.0.1', port: 1, weight: 1 }, { host: '127.0.0.1', port: 2, weight: 2 }, { host: '127.0.0.1', port: 3, weight: 3 }] }] },
    }
    const shared = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 16), locks: SharedDict.create(1 << 16), config: SharedDict.create(1 << 20) }
    new Checkups({ shared }).init(config)
    const c = new Checkups({ shared })
    c.prepareChecker(config)
    const counts = new Map<number, number>()
    const total = big.reduce((a, s) => a + s.weight, 0)
    for (let i = 0; i < total * 5; i++) {
      const p = c.selectPeer('big').port
      counts.set(p, (counts.get(p) ?? 0) + 1)
    }
    for (const s of big) expect(counts.get(s.port)).toBe(s.weight * 5)
    // the smooth round-robin's reference cycle for weights A1 B2 C3: CBACBC
    const seq = Array.from({ length: 6 }, () => c.selectPeer('small').port).map((p) => 'ABC'[p - 1]).join('')
    expect(seq).toBe('CBACBC')
  })
})
