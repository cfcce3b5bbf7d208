/**
 * Weighted least connections over the in-flight counts every worker shares (nginx's
 * `least_conn`, but nginx and Envoy count per worker / per thread; here the count is the
 * statistics zone's, so 2 workers × 10 slow requests are 20 in flight on that peer for both).
 *
 * Invariants
 * - The winner minimises inflight / weight among available peers (compared as
 *   inflight_a × weight_b < inflight_b × weight_a: no division).
 * - Ties go to smooth weighted round-robin among the tied peers only (as nginx does), so an
 *   idle level is spread by weight exactly like `wrr`.
 * - `report(failed)` halves the round-robin effective weight of a failed peer, like `wrr`.
 * - No allocation per pick (one preallocated tie mask).
 */
import type { PeerLoad } from './load.js'
import type { Balancer, BalancerPeer } from './types.js'
import { RoundRobin } from './wrr.js'

export class LeastConn implements Balancer {
  private readonly n: number
  /** the round-robin's weights in force (one copy: slow start scales them there) */
  private readonly weight: Float64Array
  private readonly loads: readonly (PeerLoad | undefined)[]
  private readonly rr: RoundRobin
  private readonly ties: Uint8Array
  private readonly seen: Float64Array

  constructor(peers: readonly BalancerPeer[]) {
    this.n = peers.length
    this.loads = peers.map((p) => p.load)
    this.rr = new RoundRobin(peers)
    this.weight = this.rr.weight
    this.ties = new Uint8Array(peers.length)
    this.seen = new Float64Array(peers.length)
  }

  pick(avail: Uint8Array, _key?: string): number {
    const n = this.n
    if (n === 1) return avail[0] === 1 ? 0 : -1
    let best = -1
    let ties = 0
    for (let i = 0; i < n; i++) {
      if (avail[i] !== 1) continue
      const c = this.loads[i]?.inflight() ?? 0
      this.seen[i] = c
      if (best === -1) {
        best = i
        ties = 1
        continue
      }
      const cmp = c * this.weight[best]! - this.seen[best]! * this.weight[i]!
      if (cmp < 0) {
        best = i
        ties = 1
      } else if (cmp === 0) ties++
    }
    if (ties <= 1) return best
    const mask = this.ties
    const bc = this.seen[best]!
    const bw = this.weight[best]!
    for (let i = 0; i < n; i++) mask[i] = avail[i] === 1 && this.seen[i]! * bw === bc * this.weight[i]! ? 1 : 0
    return this.rr.pick(mask)
  }

  report(index: number, failed: boolean): void {
    this.rr.report(index, failed)
  }

  scale(index: number, factor: number): void {
    this.rr.scale(index, factor)
  }
}

export const createLeastConn = (peers: readonly BalancerPeer[]): Balancer => new LeastConn(peers)
