/**
 * Per-peer weights shared by the weighted balancers (smooth WRR, the EDF heap, least-conn).
 *
 * Invariants: `base` is the configured weight and never changes; `weight` is the weight in
 * force (slow start scales it: base × factor); `ew`, the effective weight, never exceeds
 * `weight` after a scale and is halved (ceil) by a failed attempt. Out-of-range indices are
 * ignored.
 */
import type { BalancerPeer } from './types.js'

export class PeerWeights {
  readonly n: number
  readonly base: Float64Array
  readonly weight: Float64Array
  readonly ew: Float64Array

  constructor(peers: readonly BalancerPeer[]) {
    this.n = peers.length
    this.base = Float64Array.from(peers, (p) => p.weight)
    this.weight = Float64Array.from(peers, (p) => p.weight)
    this.ew = Float64Array.from(peers, (p) => p.weight)
  }

  /** slow start: the weight becomes factor × the configured one (the effective weight follows it down) */
  scale(index: number, factor: number): void {
    if (index < 0 || index >= this.n) return
    const w = this.base[index]! * factor
    this.weight[index] = w
    if (this.ew[index]! > w) this.ew[index] = w
  }

  /** a failed attempt halves the effective weight (rounded up) */
  report(index: number, failed: boolean): void {
    if (failed && index >= 0 && index < this.n) this.ew[index] = Math.ceil(this.ew[index]! / 2)
  }
}
