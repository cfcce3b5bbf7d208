/**
 * The consistent-hash mapping rule and its consistency properties, checked against a
 * reference ring built here from the same points: a key's peer is the owner of the first
 * point at or after its bucket's start (`(hash32(key) >>> 16) << 16`), wrapping.
 */
import { describe, expect, it } from 'vitest'
import { ConsistentHash, MIN_POINTS, POINTS_PER_WEIGHT, hash32, type BalancerPeer } from '@checkups/core'

const peersOf = (n: number, from = 0): BalancerPeer[] =>
  Array.from({ length: n }, (_, i) => ({ id: `10.1.0.${from + i + 1}:80`, weight: 1 }))
const keys = Array.from({ length: 50_000 }, (_, i) => `/k/${i}`)
const all = (n: number) => new Uint8Array(n).fill(1)

/** equal weights: every peer gets the same number of points */
function referenceRing(peers: readonly BalancerPeer[]): { at(h: number, skip?: Set<number>): number } {
  const per = POINTS_PER_WEIGHT * Math.ceil(MIN_POINTS / POINTS_PER_WEIGHT)
  const pts: [number, number][] = []
  peers.forEach((p, i) => { for (let j = 0; j < per; j++) pts.push([hash32(`${p.id}#${j}`), i]) })
  pts.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  return {
    at(h, skip = new Set()) {
      let lo = 0
      let hi = pts.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (pts[mid]![0] < h) lo = mid + 1
        else hi = mid
      }
      for (let s = 0; s < pts.length; s++) {
        const owner = pts[(lo + s) % pts.length]![1]
        if (!skip.has(owner)) return owner
      }
      return -1
    },
  }
}

const bucketStart = (key: string) => (hash32(key) >>> 16) * 65536

describe('consistent hash: mapping rule and consistency', () => {
  const ten = peersOf(10)

  it('a key goes to the owner of the first ring point at or after its bucket start', () => {
    const ch = new ConsistentHash(ten)
    const ref = referenceRing(ten)
    for (const k of keys.slice(0, 10_000)) expect(ch.pick(all(10), k)).toBe(ref.at(bucketStart(k)))
  })

  it('with peers down, a key goes to the next distinct available peer on the ring', () => {
    const ch = new ConsistentHash(ten)
    const ref = referenceRing(ten)
    const avail = all(10)
    avail[2] = 0
    avail[7] = 0
    avail[8] = 0
    for (const k of keys.slice(0, 10_000)) expect(ch.pick(avail, k)).toBe(ref.at(bucketStart(k), new Set([2, 7, 8])))
  })

  it('adding an 11th peer moves ~1/11 of the keys, all of them to the new peer', () => {
    const before = new ConsistentHash(ten)
    const eleven = [...ten, ...peersOf(1, 10)]
    const after = new ConsistentHash(eleven)
    let moved = 0
    for (const k of keys) {
      const was = before.pick(all(10), k)
      const now = after.pick(all(11), k)
      if (was !== now) {
        moved++
        expect(now).toBe(10)
      }
    }
    expect(moved / keys.length).toBeGreaterThan(0.06)
    expect(moved / keys.length).toBeLessThan(0.12)
  })

  it('taking 3 of 10 down spreads their keys over the others and leaves every other key in place', () => {
    const ch = new ConsistentHash(ten)
    const avail = all(10)
    for (const d of [1, 4, 9]) avail[d] = 0
    const to = new Array(10).fill(0)
    for (const k of keys) {
      const was = ch.pick(all(10), k)
      const now = ch.pick(avail, k)
      if ([1, 4, 9].includes(was)) to[now]++
      else expect(now).toBe(was)
    }
    expect(to[1] + to[4] + to[9]).toBe(0)
    // the orphaned keys are not all dumped on one neighbour
    expect(to.filter((c: number) => c > 0).length).toBeGreaterThanOrEqual(5)
  })

  it('two peers: one down sends every key to the other; both down gives -1', () => {
    const ch = new ConsistentHash(peersOf(2))
    for (const k of keys.slice(0, 2000)) {
      expect(ch.pick(new Uint8Array([0, 1]), k)).toBe(1)
      expect(ch.pick(new Uint8Array([1, 0]), k)).toBe(0)
      expect(ch.pick(new Uint8Array([0, 0]), k)).toBe(-1)
    }
  })

  it('more than 256 peers (a 16-bit owner table) spread and fail over too', () => {
    const many = peersOf(300)
    const ch = new ConsistentHash(many)
    const seen = new Set<number>()
    const avail = all(300)
    avail[299] = 0
    for (const k of keys.slice(0, 20_000)) {
      const p = ch.pick(avail, k)
      expect(p).not.toBe(299)
      expect(p).toBeGreaterThanOrEqual(0)
      seen.add(ch.pick(all(300), k))
    }
    expect(seen.has(299)).toBe(true)
    expect(seen.size).toBeGreaterThan(280)
  })
})
