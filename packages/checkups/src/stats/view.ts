/**
 * A peer's counters read back as a plain, JSON-serialisable object (what `/status`,
 * `/upstreams/:skey/stats`, `/metrics` and the dashboard show).
 */
import { C, CAUSES, LATENCY_BOUNDS, OUTCOMES, type StatsOutcome } from './layout.js'
import type { StatsZone } from './zone.js'

const HEALTH_NAMES = ['unknown', 'ok', 'err', 'unstable'] as const

export interface PeerStats {
  requests: number
  selected: number
  inflight: number
  bytes_in: number
  bytes_out: number
  responses: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number>
  outcomes: Record<StatsOutcome, number>
  latency: {
    count: number
    sum_ms: number
    /** non-cumulative counts per bucket; `le` in seconds, the last is +Inf (null) */
    buckets: Array<{ le: number | null; count: number }>
    p50_ms: number | null
    p99_ms: number | null
  }
  heartbeat: { checks: number; failures: number }
  health: (typeof HEALTH_NAMES)[number]
  passive: 'ok' | 'err' | 'unknown'
  /** ms since the epoch of the last transition, or null */
  last_change: number | null
  downtime_ms: number
  transitions: Record<(typeof CAUSES)[number], number>
}

/** The q-quantile (0..1) of a bucketed histogram, interpolated inside its bucket, in ms. */
export function quantileMs(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!
    if (seen + n >= rank && n > 0) {
      const lo = i === 0 ? 0 : LATENCY_BOUNDS[i - 1]!
      const hi = LATENCY_BOUNDS[i] ?? lo
      return Math.round((lo + (hi - lo) * ((rank - seen) / n)) * 1e6) / 1e3
    }
    seen += n
  }
  return null
}

export function peerStatsOf(z: StatsZone, idx: number, now: number): PeerStats {
  const v = (c: number): number => (idx < 0 ? 0 : z.load(idx, c))
  // REQUESTS before SELECTED: every ended attempt read was begun before, so in flight >= 0
  const requests = v(C.REQUESTS)
  const selected = v(C.SELECTED)
  const outcomes = OUTCOMES.map((_, i) => v(C.OUTCOME + i))
  const buckets = Array.from({ length: LATENCY_BOUNDS.length + 1 }, (_, i) => v(C.LAT_BUCKETS + i))
  const downSince = v(C.DOWN_SINCE_MS)
  const passive = v(C.PASSIVE)
  const lastChange = v(C.LAST_CHANGE_MS)
  return {
    requests,
    selected,
    inflight: Math.max(0, selected - requests),
    bytes_in: v(C.BYTES_IN),
    bytes_out: v(C.BYTES_OUT),
    responses: { '1xx': v(C.RESP), '2xx': v(C.RESP + 1), '3xx': v(C.RESP + 2), '4xx': v(C.RESP + 3), '5xx': v(C.RESP + 4) },
    outcomes: Object.fromEntries(OUTCOMES.map((o, i) => [o, outcomes[i]!])) as Record<StatsOutcome, number>,
    latency: {
      count: buckets.reduce((a, b) => a + b, 0),
      sum_ms: v(C.LAT_SUM_US) / 1000,
      buckets: buckets.map((count, i) => ({ le: LATENCY_BOUNDS[i] ?? null, count })),
      p50_ms: quantileMs(buckets, 0.5),
      p99_ms: quantileMs(buckets, 0.99),
    },
    heartbeat: { checks: v(C.HB_CHECKS), failures: v(C.HB_FAILURES) },
    health: HEALTH_NAMES[v(C.HEALTH)] ?? 'unknown',
    passive: passive === 2 ? 'err' : passive === 1 ? 'ok' : 'unknown',
    last_change: lastChange > 0 ? lastChange : null,
    downtime_ms: v(C.DOWNTIME_MS) + (downSince > 0 ? Math.max(0, now - downSince) : 0),
    transitions: Object.fromEntries(CAUSES.map((c, i) => [c, v(C.TRANSITIONS + i)])) as PeerStats['transitions'],
  }
}
