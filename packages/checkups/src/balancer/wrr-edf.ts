/**
 * Weighted round-robin for large levels in O(log n) a pick: earliest-deadline-first over a
 * binary heap (the scheme Envoy uses for weighted round-robin). The smooth weighted
 * round-robin of wrr.ts visits every peer on every pick, so its cost grows linearly with the
 * level; this one does not. The worker view uses it for levels of more than
 * `EDF_MIN_PEERS` servers; smaller levels keep nginx's exact sequence.
 *
 * Invariants
 * - Each peer has a virtual deadline; a pick pops the earliest (ties: lowest index), moves the
 *   clock to it and re-schedules that peer at `deadline + 1 / ew`. With every peer available
 *   and no failures each peer is picked `weight / sum(weights)` of the time, interleaved
 *   (equal weights = plain round-robin in list order).
 * - An unavailable peer that comes up is re-scheduled as if picked and the pop goes on, so it
 *   keeps its phase and gets no burst when it returns; among the available peers the shares
 *   stay proportional to their weights. After n pops without an available one, a linear scan
 *   decides (the first available peer, or -1 when none is).
 * - A failed attempt halves the peer's effective weight `ew` (ceil); each time the peer comes
 *   up, `ew` grows by one back towards its weight.
 * - The virtual clock is rebased before it loses precision (deadlines keep their order).
 */
import type { Balancer, BalancerPeer } from './types.js'

/** levels with more servers than this use the heap scheduler */
export const EDF_MIN_PEERS = 16
const REBASE_AT = 2 ** 40

export class EdfRoundRobin implements Balancer {
  private readonly n: number
  private readonly weight: Float64Array
  private readonly ew: Float64Array
  private readonly deadline: Float64Array
  /** heap of peer indices ordered by (deadline, index) */
  private readonly heap: Int32Array

  constructor(peers: readonly BalancerPeer[]) {
    const n = (this.n = peers.length)
    this.weight = Float64Array.from(peers, (p) => p.weight)
    this.ew = Float64Array.from(peers, (p) => p.weight)
    this.deadline = Float64Array.from(peers, (p) => 1 / p.weight)
    this.heap = Int32Array.from({ length: n }, (_, i) => i)
    for (let k = (n >>> 1) - 1; k >= 0; k--) this.siftDown(k)
  }

  pick(avail: Uint8Array, _key?: string): number {
    const n = this.n
    if (n === 0) return -1
    const { heap, deadline, ew, weight } = this
    for (let tries = 0; tries < n; tries++) {
      const i = heap[0]!
      const now = deadline[i]!
      if (ew[i]! < weight[i]!) ew[i] = ew[i]! + 1
      deadline[i] = now + 1 / ew[i]!
      this.siftDown(0)
      if (now > REBASE_AT) this.rebase(now)
      if (avail[i] === 1) return i
    }
    for (let i = 0; i < n; i++) if (avail[i] === 1) return i
    return -1
  }

  report(index: number, failed: boolean): void {
    if (failed && index >= 0 && index < this.n) this.ew[index] = Math.ceil(this.ew[index]! / 2)
  }

  private before(a: number, b: number): boolean {
    const da = this.deadline[a]!
    const db = this.deadline[b]!
    return da < db || (da === db && a < b)
  }

  private siftDown(k: number): void {
    const heap = this.heap
    const n = this.n
    const item = heap[k]!
    for (;;) {
      let c = 2 * k + 1
      if (c >= n) break
      if (c + 1 < n && this.before(heap[c + 1]!, heap[c]!)) c++
      if (!this.before(heap[c]!, item)) break
      heap[k] = heap[c]!
      k = c
    }
    heap[k] = item
  }

  private rebase(now: number): void {
    for (let i = 0; i < this.n; i++) this.deadline[i] = this.deadline[i]! - now
  }
}

export const createEdfRoundRobin = (peers: readonly BalancerPeer[]): Balancer => new EdfRoundRobin(peers)
