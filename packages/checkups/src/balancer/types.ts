/**
 * The balancer interface. A balancer owns the per-worker selection state of ONE level
 * (cluster) of one upstream. Availability is handed in as a byte per peer (1 = may be
 * picked), derived by the worker view from heartbeat + passive records and the per-call
 * exclusions. Only the load-aware balancers (least_conn, p2c) read shared memory: each
 * peer's in-flight count and latency cost through its `load` (load.ts).
 */
import type { PeerLoad } from './load.js'

export interface BalancerPeer {
  /** stable identity, `host:port` (the hash ring is built from it) */
  readonly id: string
  readonly weight: number
  /** the peer's shared load (in-flight, latency cost); absent when statistics are off */
  readonly load?: PeerLoad | undefined
}

export interface Balancer {
  /**
   * The index of the chosen peer among those with `avail[i] !== 0`, or -1 when none is.
   * `key` is used by hash balancers only.
   */
  pick(avail: Uint8Array, key: string): number
  /** Feedback after an attempt on peer `index` (round-robin halves its effective weight). */
  report(index: number, failed: boolean): void
  /** An attempt on peer `index` took `latencyMs` (p2c's latency cost). */
  observe?(index: number, latencyMs: number): void
  /** Sets peer `index`'s weight to `factor` × its configured weight (slow start). */
  scale?(index: number, factor: number): void
}

export type BalancerFactory = (peers: readonly BalancerPeer[]) => Balancer
