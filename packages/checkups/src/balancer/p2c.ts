/**
 * Power of two random choices scored by load (after Finagle's and Linkerd's p2c balancers):
 * two distinct available peers are drawn at random and the lower score wins, score =
 * latency cost × (in-flight + 1), both read from shared memory (load.ts), so every
 * worker scores a peer with the same numbers.
 *
 * Invariants
 * - Only available peers are drawn; one available peer is picked as is; none → -1.
 * - A peer with no latency sample (yet, or decayed to nothing) scores 0 when idle, so a new
 *   or recovered peer is tried at once, and PENALTY when it has attempts in flight (they may
 *   be stuck: Finagle does the same), so it is not flooded before its first answer.
 * - Weights are ignored (as Linkerd does): load, not configuration, decides.
 * - `observe(latency)` feeds the chosen peer's cost; `report` does nothing.
 * - The random source is injectable (tests); no allocation per pick.
 */
import type { PeerLoad } from './load.js'
import type { Balancer, BalancerPeer } from './types.js'

/** the score of a peer with attempts in flight and no latency sample */
export const PENALTY = 1e12

export class PowerOfTwo implements Balancer {
  private readonly n: number
  private readonly loads: readonly (PeerLoad | undefined)[]
  private readonly idx: Int32Array

  constructor(peers: readonly BalancerPeer[], private readonly random: () => number = Math.random) {
    this.n = peers.length
    this.loads = peers.map((p) => p.load)
    this.idx = new Int32Array(peers.length)
  }

  pick(avail: Uint8Array, _key?: string): number {
    let m = 0
    for (let i = 0; i < this.n; i++) if (avail[i] === 1) this.idx[m++] = i
    if (m <= 1) return m === 1 ? this.idx[0]! : -1
    const r1 = Math.floor(this.random() * m)
    let r2 = Math.floor(this.random() * (m - 1))
    if (r2 >= r1) r2++
    const a = this.idx[r1]!
    const b = this.idx[r2]!
    return this.score(b) < this.score(a) ? b : a
  }

  private score(i: number): number {
    const l = this.loads[i]
    if (l === undefined) return 0
    const pending = l.inflight()
    const cost = l.cost()
    if (cost > 0) return cost * (pending + 1)
    return pending === 0 ? 0 : PENALTY + pending
  }

  report(): void {}

  observe(index: number, latencyMs: number): void {
    this.loads[index]?.observe(latencyMs)
  }
}

export const createPowerOfTwo = (peers: readonly BalancerPeer[]): Balancer => new PowerOfTwo(peers)
