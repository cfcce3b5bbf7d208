/**
 * Smooth weighted round-robin, nginx's algorithm as the original implements it.
 *
 * Invariants: for each available peer `cw += ew; total += ew; if (ew < weight) ew++`; the
 * largest `cw` wins, the first listed wins ties (strict `>`); the winner gets `cw -= total`.
 * Unavailable peers are untouched. A level of one server does no arithmetic. A failed
 * attempt halves the effective weight (`ew = ceil(ew / 2)`). Reference cycles: weights
 * A1 B4 C3 E6 → EBCEBEACEBECBE; A1 B2 C3 → CBACBC.
 */
import type { Balancer, BalancerPeer } from './types.js'
import { PeerWeights } from './weights.js'

export class RoundRobin implements Balancer {
  private readonly w: PeerWeights
  private readonly n: number
  /** the weights in force (slow start scales them in place); least-conn compares with them too */
  readonly weight: Float64Array
  private readonly ew: Float64Array
  private readonly cw: Float64Array

  constructor(peers: readonly BalancerPeer[]) {
    const w = (this.w = new PeerWeights(peers))
    this.n = w.n
    this.weight = w.weight
    this.ew = w.ew
    this.cw = new Float64Array(peers.length)
  }

  pick(avail: Uint8Array, _key?: string): number {
    const n = this.n
    if (n === 1) return avail[0] === 1 ? 0 : -1
    const { weight, ew, cw } = this
    let best = -1
    let max = 0
    let total = 0
    for (let i = 0; i < n; i++) {
      if (avail[i] !== 1) continue
      const e = ew[i]!
      const c = cw[i]! + e
      cw[i] = c
      total += e
      if (e < weight[i]!) ew[i] = Math.min(e + 1, weight[i]!)
      if (best === -1 || c > max) {
        max = c
        best = i
      }
    }
    if (best !== -1) cw[best] = max - total
    return best
  }

  /** slow start: the weight becomes factor × the configured one (the effective weight follows it down) */
  scale(index: number, factor: number): void {
    this.w.scale(index, factor)
  }

  report(index: number, failed: boolean): void {
    this.w.report(index, failed)
  }
}

export const createRoundRobin = (peers: readonly BalancerPeer[]): Balancer => new RoundRobin(peers)
