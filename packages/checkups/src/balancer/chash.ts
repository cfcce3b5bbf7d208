/**
 * Consistent hash: a ketama-style ring whose points follow the weights, read through a
 * direct bucket → owner table so a pick is one hash of the key and one array index.
 *
 * Invariants
 * - Weights are first divided by their greatest common divisor (3000 and 6000 ring like 1 and
 *   2). Peer `p` then owns `POINTS_PER_WEIGHT * weight * scale` points at `hash32("<id>#<j>")`,
 *   j = 0, 1, ... — a point depends only on the peer's id, so adding/removing a peer moves
 *   only the keys of that peer. `scale` lifts the lightest peer to >= MIN_POINTS points: with
 *   ketama's bare 160 points a peer's share of keys varies by ~8 %, with 4096 by ~1.6 %.
 * - Memory and build time are bounded whatever the weights (any int32): when the points would
 *   exceed MAX_TOTAL_POINTS every count is scaled down in proportion (each peer keeps at least
 *   one point), so the ring's shares still follow the weights.
 * - Mapping: a key lands in bucket `b = hash32(key) >>> BUCKET_SHIFT` (2^16 buckets); its
 *   place on the ring is `b << BUCKET_SHIFT`, and its peer the owner of the first point at
 *   or after that place (wrapping). `table[b]` holds that owner, precomputed, so the common
 *   pick does no search. The quantisation is the same for every ring, so the consistency
 *   properties are exactly the ring's: removing a peer moves only its buckets, and a key
 *   whose owner is unavailable goes where a ring without that peer would send it.
 * - Failover (owner unavailable): binary search for the bucket's ring position, then walk
 *   to the next run of a DIFFERENT owner (`nextRun`, precomputed), so a dead peer's
 *   consecutive points are skipped at once; at most one step per run.
 */
import { hash32 } from './hash32.js'
import type { Balancer, BalancerPeer } from './types.js'

/** ketama's points per weight unit */
export const POINTS_PER_WEIGHT = 160
/** the lightest peer gets at least this many points (share variance ~1/sqrt(points)) */
export const MIN_POINTS = 4096
/** 2^(32 - BUCKET_SHIFT) buckets in the direct owner table */
const BUCKET_SHIFT = 16
const BUCKETS = 2 ** (32 - BUCKET_SHIFT)
/** upper bound on the ring size (memory/build time), reached only with extreme weights */
export const MAX_TOTAL_POINTS = 1 << 20

export class ConsistentHash implements Balancer {
  private readonly hashes: Uint32Array
  private readonly owners: Uint16Array
  /** position of the next point whose owner differs from owners[i] (wrapping) */
  private readonly nextRun: Uint32Array
  private readonly n: number
  /** bucket → owner of the first point at or after the bucket's start */
  private readonly table: Uint8Array | Uint16Array

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
    this.owners = new Uint16Array(total)
    for (let i = 0; i < total; i++) {
      const v = pairs[i]!
      this.hashes[i] = Math.floor(v / 65536)
      this.owners[i] = v % 65536
    }
    this.nextRun = buildNextRun(this.owners)
    this.table = buildTable(this.hashes, this.owners, this.n)
  }

  pick(avail: Uint8Array, key: string): number {
    if (this.n <= 1) return this.n === 1 && avail[0] === 1 ? 0 : -1
    const b = hash32(key) >>> BUCKET_SHIFT
    const owner = this.table[b]!
    if (avail[owner] === 1) return owner
    return this.failover(avail, b)
  }

  report(): void {}

  /** points on the ring (at most MAX_TOTAL_POINTS + one per peer) */
  get size(): number {
    return this.hashes.length
  }

  private failover(avail: Uint8Array, bucket: number): number {
    const len = this.hashes.length
    let pos = lowerBound(this.hashes, bucket * 2 ** BUCKET_SHIFT)
    // each step lands on a new run of another owner; `len` steps visit every run at least once
    for (let steps = 0; steps < len; steps++) {
      const next = this.nextRun[pos]!
      if (next === pos) return -1 // a single owner on the whole ring
      pos = next
      const owner = this.owners[pos]!
      if (avail[owner] === 1) return owner
    }
    return -1
  }
}

/** first position whose hash >= h, wrapping to 0 past the end */
function lowerBound(hs: Uint32Array, h: number): number {
  let lo = 0
  let hi = hs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (hs[mid]! < h) lo = mid + 1
    else hi = mid
  }
  return lo === hs.length ? 0 : lo
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

function buildTable(hashes: Uint32Array, owners: Uint16Array, n: number): Uint8Array | Uint16Array {
  const out = n <= 256 ? new Uint8Array(BUCKETS) : new Uint16Array(BUCKETS)
  if (hashes.length === 0) return out
  let pos = 0
  for (let b = 0; b < BUCKETS; b++) {
    const start = b * 2 ** BUCKET_SHIFT
    while (pos < hashes.length && hashes[pos]! < start) pos++
    out[b] = owners[pos === hashes.length ? 0 : pos]!
  }
  return out
}

function buildNextRun(owners: Uint16Array): Uint32Array {
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
