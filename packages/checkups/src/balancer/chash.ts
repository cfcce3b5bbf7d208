/**
 * Consistent hash: a ketama-style ring whose points follow the weights
 * improvement 2).
 *
 * Invariants
 * - Weights are first divided by their greatest common divisor (3000 and 6000 ring like 1 and
 *   2). Peer `p` then owns `POINTS_PER_WEIGHT * weight * scale` points at `hash32("<id>#<j>")`,
 *   j = 0, 1, ... — a point depends only on the peer's id, so adding/removing a peer moves
 *   only the keys of that peer. `scale` lifts the lightest peer to >= MIN_POINTS points: with
 *   ketama's bare 160 points a peer's share of keys varies by ~8 %, with 4096 by ~1.6 %.
 * - Memory and build time are bounded whatever the weights (any int32): when the points would
 *   exceed MAX_TOTAL_POINTS (12 bytes each, ~12 MB) every count is scaled down in proportion
 *   (each peer keeps at least one point), so the ring's shares still follow the weights.
 * - Lookup: binary search for the first point >= hash32(key) (wrapping), O(log points),
 *   started from a 4096-bucket index on the hash's top bits (a few steps, cache friendly).
 *   If its owner is unavailable, walk on to the next run of a DIFFERENT owner
 *   (`nextRun`, precomputed), so failover skips a dead peer's consecutive points at once.
 */
import { hash32 } from './hash32.js'
import type { Balancer, BalancerPeer } from './types.js'

/** ketama's points per weight unit */
export const POINTS_PER_WEIGHT = 160
/** the lightest peer gets at least this many points (share variance ~1/sqrt(points)) */
export const MIN_POINTS = 4096
/** lookup buckets: 2^(32 - BUCKET_SHIFT) of them, so a lookup binary-searches a few points */
const BUCKET_SHIFT = 20
/** upper bound on the ring size (memory/build time), reached only with extreme weights */
export const MAX_TOTAL_POINTS = 1 << 20

export class ConsistentHash implements Balancer {
  private readonly hashes: Uint32Array
  private readonly owners: Uint32Array
  /** position of the next point whose owner differs from owners[i] (wrapping) */
  private readonly nextRun: Uint32Array
  private readonly n: number
  /** bucket b = first position whose hash >= b << BUCKET_SHIFT: narrows the binary search */
  private readonly buckets: Uint32Array

  constructor(peers: readonly BalancerPeer[]) {
    this.n = peers.length
    const counts = pointCounts(peers)
    const total = counts.reduce((a, b) => a + b, 0)
    const pairs = new Float64Array(total)
    let k = 0
    peers.forEach((p, i) => {
      for (let j = 0; j < counts[i]!; j++) pairs[k++] = hash32(`${p.id}#${j}`) * 65536 + i
    })
    pairs.sort()
    this.hashes = new Uint32Array(total)
    this.owners = new Uint32Array(total)
    for (let i = 0; i < total; i++) {
      const v = pairs[i]!
      this.hashes[i] = Math.floor(v / 65536)
      this.owners[i] = v % 65536
    }
    this.nextRun = buildNextRun(this.owners)
    this.buckets = buildBuckets(this.hashes)
  }

  pick(avail: Uint8Array, key: string): number {
    const len = this.hashes.length
    if (len === 0) return -1
    if (this.n === 1) return avail[0] === 1 ? 0 : -1
    let pos = this.lowerBound(hash32(key))
    // each step lands on a new run of another owner; `len` steps visit every run at least once
    for (let steps = 0; steps < len; steps++) {
      const owner = this.owners[pos]!
      if (avail[owner] === 1) return owner
      const next = this.nextRun[pos]!
      if (next === pos) return -1 // a single owner on the whole ring
      pos = next
    }
    return -1
  }

  report(): void {}

  /** points on the ring (at most MAX_TOTAL_POINTS + one per peer) */
  get size(): number {
    return this.hashes.length
  }

  private lowerBound(h: number): number {
    const hs = this.hashes
    const b = h >>> BUCKET_SHIFT
    let lo = this.buckets[b]!
    let hi = this.buckets[b + 1]!
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (hs[mid]! < h) lo = mid + 1
      else hi = mid
    }
    return lo === hs.length ? 0 : lo
  }
}

function pointCounts(peers: readonly BalancerPeer[]): number[] {
  if (peers.length === 0) return []
  const g = peers.reduce((acc, p) => gcd(acc, p.weight), 0) || 1
  const weights = peers.map((p) => p.weight / g)
  const minW = Math.min(...weights)
  const sumW = weights.reduce((a, w) => a + w, 0)
  let per = POINTS_PER_WEIGHT * Math.max(1, Math.ceil(MIN_POINTS / (POINTS_PER_WEIGHT * minW)))
  if (per * sumW > MAX_TOTAL_POINTS) per = MAX_TOTAL_POINTS / sumW
  return weights.map((w) => Math.max(1, Math.floor(per * w)))
}

function gcd(a: number, b: number): number {
  while (b > 0) [a, b] = [b, a % b]
  return a
}

function buildBuckets(hashes: Uint32Array): Uint32Array {
  const count = 2 ** (32 - BUCKET_SHIFT)
  const out = new Uint32Array(count + 1)
  let pos = 0
  for (let b = 0; b < count; b++) {
    const start = b * 2 ** BUCKET_SHIFT
    while (pos < hashes.length && hashes[pos]! < start) pos++
    out[b] = pos
  }
  out[count] = hashes.length
  return out
}

function buildNextRun(owners: Uint32Array): Uint32Array {
  const len = owners.length
  const next = new Uint32Array(len)
  if (len === 0) return next
  // find, walking backwards twice around the ring, the next index with a different owner
  let nextDiff = -1
  for (let k = 2 * len - 1; k >= 0; k--) {
    const i = k % len
    const j = (i + 1) % len
    if (owners[j] !== owners[i]) nextDiff = j
    if (k < len) next[i] = nextDiff === -1 ? i : nextDiff
  }
  return next
}

export const createConsistentHash = (peers: readonly BalancerPeer[]): Balancer => new ConsistentHash(peers)
