/**
 * Outlier detection (Envoy's): consecutive 5xx responses, consecutive gateway failures
 * (502/503/504 and connect errors) or consecutive local-origin errors (connect errors,
 * timeouts, resets) eject a peer for base_ejection_time × its ejections so far (capped by
 * max_ejection_time); it returns by itself when that time is over.
 *
 * Invariants
 * - State is per peer in its statistics slot (shared by every worker): the three consecutive
 *   counters, the ejection count and the ejected-until time. A success of each kind stores 0
 *   in its counter; workers update without a lock (a lost increment delays an ejection by one
 *   failure, never corrupts anything).
 * - Never more than max_ejection_percent of the upstream's peers are ejected at once (at
 *   least one may be, as Envoy allows); an ejection that would exceed it is skipped.
 * - Ejecting bumps the passive version slot (`onEject`), so every worker's view re-derives
 *   availability at its next select; a view treats a peer as unavailable until `until`.
 */
import type { ResolvedOutlierDetection } from '../config/types.js'
import type { AttemptOutcome } from '../try/outcome.js'
import { C } from '../stats/layout.js'
import type { PeerLoad } from './load.js'

export type OutlierConfig = ResolvedOutlierDetection

const LOCAL: ReadonlySet<AttemptOutcome> = new Set(['connect_error', 'timeout', 'reset'])

export class OutlierDetector {
  constructor(private readonly loads: readonly PeerLoad[], private readonly cfg: OutlierConfig,
    private readonly now: () => number, private readonly onEject: () => void) {}

  /** when the peer is ejected until (ms), 0 when it never was */
  until(l: PeerLoad | undefined): number {
    return l === undefined ? 0 : l.word(C.OD_UNTIL_MS)
  }

  /** one attempt on the peer ended as `outcome` (with the response's `status`, if any) */
  observe(l: PeerLoad | undefined, outcome: AttemptOutcome, status: number | undefined): void {
    if (l === undefined || outcome === 'client_abort') return
    const c = this.cfg
    const is5xx = status !== undefined && status >= 500 && status < 600
    const gateway = outcome === 'connect_error' || status === 502 || status === 503 || status === 504
    let trip = false
    trip = step(l, C.OD_5XX, is5xx, c.consecutive_5xx) || trip
    trip = step(l, C.OD_GW, gateway, c.consecutive_gateway_failure) || trip
    trip = step(l, C.OD_LOCAL, LOCAL.has(outcome), c.consecutive_local_origin_failure) || trip
    if (trip) this.eject(l)
  }

  private eject(l: PeerLoad): void {
    const now = this.now()
    if (this.until(l) > now) return
    let out = 0
    for (const k of this.loads) if (this.until(k) > now) out++
    if (out > 0 && ((out + 1) * 100) / this.loads.length > this.cfg.max_ejection_percent) return
    const n = l.add(C.OD_EJECTIONS, 1)
    const ms = Math.min(this.cfg.base_ejection_time * n, this.cfg.max_ejection_time) * 1000
    l.set(C.OD_UNTIL_MS, now + ms)
    l.set(C.OD_5XX, 0)
    l.set(C.OD_GW, 0)
    l.set(C.OD_LOCAL, 0)
    this.onEject()
  }
}

/** counts a failure of one kind (true when it reached `limit`), or resets it */
function step(l: PeerLoad, word: number, failed: boolean, limit: number | undefined): boolean {
  if (limit === undefined) return false
  if (!failed) {
    if (l.word(word) !== 0) l.set(word, 0)
    return false
  }
  return l.add(word, 1) >= limit
}
