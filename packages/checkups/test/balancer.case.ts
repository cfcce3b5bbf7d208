/**
 * The shared balancer conformance suite: every balancer must satisfy it.
 * Run from balancer.test.ts against round-robin and consistent hash.
 */
import { describe, expect, it } from 'vitest'
import type { Balancer, BalancerPeer } from '@checkups/core'

export interface BalancerUnderTest {
  name: string
  create(peers: readonly BalancerPeer[]): Balancer
  /** the key used for picks (hash balancers spread keys, rr ignores it) */
  key(i: number): string
}

const peers = (weights: number[]): BalancerPeer[] => weights.map((w, i) => ({ id: `127.0.0.1:${1001 + i}`, weight: w }))
const all = (n: number) => new Uint8Array(n).fill(1)

export function balancerCases(b: BalancerUnderTest): void {
  describe(`balancer conformance: ${b.name}`, () => {
    it('returns -1 for an empty peer list', () => {
      expect(b.create([]).pick(new Uint8Array(0), b.key(0))).toBe(-1)
    })

    it('a single peer: picked when available, -1 otherwise', () => {
      const bal = b.create(peers([3]))
      expect(bal.pick(all(1), b.key(1))).toBe(0)
      expect(bal.pick(new Uint8Array([0]), b.key(1))).toBe(-1)
    })

    it('never picks an unavailable peer, and -1 when none is available', () => {
      const bal = b.create(peers([1, 2, 3, 4]))
      const avail = new Uint8Array([1, 0, 1, 0])
      for (let i = 0; i < 2000; i++) expect([0, 2]).toContain(bal.pick(avail, b.key(i)))
      expect(bal.pick(new Uint8Array(4), b.key(7))).toBe(-1)
    })

    it('only the available peer when one is left', () => {
      const bal = b.create(peers([5, 1, 5]))
      for (let i = 0; i < 500; i++) expect(bal.pick(new Uint8Array([0, 1, 0]), b.key(i))).toBe(1)
    })

    it('spreads picks by weight (ratios within 5 %)', () => {
      const bal = b.create(peers([1, 2, 3]))
      const n = 60_000
      const counts = [0, 0, 0]
      for (let i = 0; i < n; i++) counts[bal.pick(all(3), b.key(i))]! += 1
      expect(Math.abs(counts[0]! / n - 1 / 6) / (1 / 6)).toBeLessThan(0.05)
      expect(Math.abs(counts[1]! / n - 2 / 6) / (2 / 6)).toBeLessThan(0.05)
      expect(Math.abs(counts[2]! / n - 3 / 6) / (3 / 6)).toBeLessThan(0.05)
    })

    it('accepts failure reports without breaking picks', () => {
      const bal = b.create(peers([2, 2]))
      for (let i = 0; i < 100; i++) {
        const p = bal.pick(all(2), b.key(i))
        expect(p === 0 || p === 1).toBe(true)
        bal.report(p, i % 3 === 0)
      }
    })
  })
}
