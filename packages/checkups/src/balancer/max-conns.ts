/**
 * `max_conns` per server: a circuit breaker on the shared in-flight count (load.ts). A peer
 * whose in-flight attempts, all workers counted, reached its `max_conns` is not picked
 * until one ends; when that leaves nothing to pick, the caller fails with
 * CKP_ERR_MAX_CONNS (503) rather than queueing.
 *
 * Invariants
 * - Only levels with some `max_conns` get a ConnLimit; the others pay nothing.
 * - `mask(avail)` never writes `avail`: it returns it untouched when no peer is full, else a
 *   preallocated copy with the full peers cleared; `skipped` says how many were.
 * - The check is a read, not a reservation: two workers may both pass a peer at
 *   max_conns - 1 (the limit can be exceeded by the number of concurrent picks, as
 *   nginx's per-worker max_conns is exceeded by its workers).
 */
import type { ResolvedServer } from '../config/types.js'
import { CheckupsError } from '../errors.js'
import type { PeerLoad } from './load.js'

export class ConnLimit {
  private readonly limits: Float64Array
  private readonly loads: readonly (PeerLoad | undefined)[]
  private readonly scratch: Uint8Array
  /** peers the last `mask` cleared because they were full */
  skipped = 0

  constructor(peers: readonly { readonly server: ResolvedServer; readonly load: PeerLoad | undefined }[]) {
    this.limits = Float64Array.from(peers, (p) => p.server.max_conns ?? Infinity)
    this.loads = peers.map((p) => p.load)
    this.scratch = new Uint8Array(peers.length)
  }

  static of(peers: readonly { readonly server: ResolvedServer; readonly load: PeerLoad | undefined }[]): ConnLimit | undefined {
    return peers.some((p) => p.server.max_conns !== undefined && p.load !== undefined) ? new ConnLimit(peers) : undefined
  }

  mask(avail: Uint8Array): Uint8Array {
    let out = avail
    this.skipped = 0
    for (let i = 0; i < avail.length; i++) {
      if (avail[i] !== 1 || this.limits[i] === Infinity) continue
      if ((this.loads[i]?.inflight() ?? 0) < this.limits[i]!) continue
      if (out === avail) {
        this.scratch.set(avail)
        out = this.scratch
      }
      out[i] = 0
      this.skipped++
    }
    return out
  }
}

/** Every candidate left was at its max_conns (a 503 naming the cause, not a peer failure). */
export function maxConns(cause?: unknown): CheckupsError {
  return new CheckupsError('CKP_ERR_MAX_CONNS', 'every peer left is at max_conns', cause === undefined ? undefined : { cause })
}
