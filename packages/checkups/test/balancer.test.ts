import { describe, expect, it } from 'vitest'
import { ConsistentHash, RoundRobin, createConsistentHash, createRoundRobin, hash32, type BalancerPeer } from '@checkups/core'
import { balancerCases } from './balancer.case.js'

balancerCases({ name: 'round-robin', create: createRoundRobin, key: () => '' })
balancerCases({ name: 'consistent hash', create: createConsistentHash, key: (i) => `key-${i}` })

const named = (spec: string): BalancerPeer[] =>
  spec.split(' ').map((s) => ({ id: s[0]!, weight: Number(s.slice(1)) }))

function cycle(spec: string, n: number, avail?: Uint8Array): string {
  const ps = named(spec)
  const rr = new RoundRobin(ps)
  const a = avail ?? new Uint8Array(ps.length).fill(1)
  let out = ''
  for (let i = 0; i < n; i++) {
    const p = rr.pick(a, '')
    out += p === -1 ? '-' : ps[p]!.id
  }
  return out
}

describe('smooth weighted round-robin', () => {
  it.each([
    ['A1 B4 C3 E6', 14, 'EBCEBEACEBECBE'],
    ['A1 B4 C3 E6', 28, 'EBCEBEACEBECBE'.repeat(2)],
    ['A1 B2 C3', 6, 'CBACBC'],
    ['A1 B2 C3', 12, 'CBACBCCBACBC'],
    ['A1 B1 C1', 6, 'ABCABC'],
    ['A5 B5', 4, 'ABAB'],
    ['A7', 3, 'AAA'],
  ])('%s → %s', (spec, n, expected) => {
    expect(cycle(spec, n)).toBe(expected)
  })

  it('unavailable peers are skipped and untouched', () => {
    // B filtered: A1 C3 E6 run their own cycle
    expect(cycle('A1 B4 C3 E6', 10, new Uint8Array([1, 0, 1, 1]))).toBe('ECEAECEECE')
  })

  it('a failure halves the effective weight (ceil), which then climbs back by one per pick', () => {
    const ps = named('A1 B2 C3')
    const rr = new RoundRobin(ps)
    const a = new Uint8Array([1, 1, 1])
    expect(ps[rr.pick(a, '')]!.id).toBe('C')
    rr.report(2, true) // C: ew 3 → 2
    let out = ''
    for (let i = 0; i < 6; i++) out += ps[rr.pick(a, '')]!.id
    expect(out).toBe('BACBCB')
  })
})

describe('consistent hash quality', () => {
  const ten = Array.from({ length: 10 }, (_, i) => ({ id: `10.0.0.${i + 1}:8080`, weight: 1 }))
  const keys = Array.from({ length: 100_000 }, (_, i) => `/object/${i}`)

  it('100 000 keys over 10 equal peers: every peer within ±10 % of its share', () => {
    const ch = new ConsistentHash(ten)
    const counts = new Array(10).fill(0)
    const a = new Uint8Array(10).fill(1)
    for (const k of keys) counts[ch.pick(a, k)]++
    for (const c of counts) expect(Math.abs(c - 10_000) / 10_000).toBeLessThanOrEqual(0.1)
  })

  it('weights 1:2:3 give shares within ±5 % of 1/6, 2/6, 3/6', () => {
    const ch = new ConsistentHash([{ id: 'a:1', weight: 1 }, { id: 'b:1', weight: 2 }, { id: 'c:1', weight: 3 }])
    const counts = [0, 0, 0]
    const a = new Uint8Array(3).fill(1)
    for (const k of keys) counts[ch.pick(a, k)]! += 1
    ;[1 / 6, 2 / 6, 3 / 6].forEach((share, i) => {
      expect(Math.abs(counts[i]! / keys.length - share) / share).toBeLessThanOrEqual(0.05)
    })
  })

  it('removing one of 10 peers moves only that peer\'s keys (≤ 12 % of all keys)', () => {
    const before = new ConsistentHash(ten)
    const nine = ten.filter((_, i) => i !== 3)
    const after = new ConsistentHash(nine)
    const a10 = new Uint8Array(10).fill(1)
    const a9 = new Uint8Array(9).fill(1)
    let moved = 0
    for (const k of keys) {
      const was = ten[before.pick(a10, k)]!.id
      const now = nine[after.pick(a9, k)]!.id
      if (was !== now) {
        moved++
        expect(was).toBe(ten[3]!.id)
      }
    }
    expect(moved / keys.length).toBeLessThanOrEqual(0.12)
  })

  it('failover goes to the next distinct available peer, the same one a ring without the dead peer picks', () => {
    const ch = new ConsistentHash(ten)
    const nine = new ConsistentHash(ten.filter((_, i) => i !== 5))
    const avail = new Uint8Array(10).fill(1)
    avail[5] = 0
    const a9 = new Uint8Array(9).fill(1)
    for (const k of keys.slice(0, 20_000)) {
      const got = ten[ch.pick(avail, k)]!.id
      const want = ten.filter((_, i) => i !== 5)[nine.pick(a9, k)]!.id
      expect(got).toBe(want)
    }
  })

  it('hash32 is stable (murmur3-style 32-bit) and well mixed', () => {
    expect(hash32('')).toBe(hash32(''))
    expect(hash32('a')).not.toBe(hash32('b'))
    let bits = 0
    for (let i = 0; i < 1000; i++) bits += popcount(hash32(`k${i}`) ^ hash32(`k${i + 1}`))
    expect(bits / 1000).toBeGreaterThan(14)
    expect(bits / 1000).toBeLessThan(18)
  })
})

function popcount(n: number): number {
  let c = 0
  for (let x = n >>> 0; x; x &= x - 1) c++
  return c
}
