/**
 * The per-peer and heartbeat families of `/metrics`, built at scrape time from the
 * statistics zone (Checkups.getStats / observer) and the shared status, so every worker
 * renders the same numbers. Names are declared here once (docs/metrics.md lists them).
 */
import { LATENCY_BOUNDS, ROUND_BOUNDS, type PeerStats } from '@checkups/core'
import { histogramSamples, type Family, type Labels, type Sample } from './prom-text.js'

export interface PeerMetricsSource {
  getStatus(): unknown
  getStats(): Record<string, Record<string, PeerStats>>
  readonly observer: { rounds(): { count: number; sum: number; buckets: number[] } }
}

/** The balancing fields of a peer's getStatus() entry that the gauges below read. */
interface PeerBalance {
  outlier?: { ejections: number; ejected_until: number | null }
  slow_start?: { factor: number }
  latency_cost_ms?: number
}

type PeerRow = { labels: Labels; s: PeerStats; up: number; b: PeerBalance }

type StatusPeer = PeerBalance & { server?: string; status?: string; passive?: { status?: string } }

/** Every peer entry of `cls:<skey>` in a getStatus() object, by `"<host>:<port>"` (a peer in two levels: each entry). */
function statusPeers(status: unknown, skey: string): [string, StatusPeer][] {
  const levels = (status as Record<string, unknown> | null)?.[`cls:${skey}`]
  if (typeof levels !== 'object' || levels === null) return []
  return Object.values(levels as Record<string, unknown>).flatMap((level) => !Array.isArray(level) ? [] :
    (level as StatusPeer[]).map((p) => [typeof p.server === 'string' ? p.server.slice(skey.length + 1) : '', p] as [string, StatusPeer]))
}

/** `"<host>:<port>"` → 1 when neither the heartbeat nor passive accounting holds it down. */
export function upByPeer(status: unknown, skey: string): Map<string, number> {
  return upOf(statusPeers(status, skey))
}

function upOf(entries: readonly [string, StatusPeer][]): Map<string, number> {
  const out = new Map<string, number>()
  for (const [peer, p] of entries) {
    const down = p.status === 'err' || p.passive?.status === 'err'
    out.set(peer, Math.min(out.get(peer) ?? 1, down ? 0 : 1))
  }
  return out
}

function rows(src: PeerMetricsSource): PeerRow[] {
  const status = src.getStatus()
  const out: PeerRow[] = []
  for (const [upstream, peers] of Object.entries(src.getStats())) {
    const entries = statusPeers(status, upstream)
    const up = upOf(entries)
    const bal = new Map(entries)
    for (const [peer, s] of Object.entries(peers)) out.push({ labels: { upstream, peer }, s, up: up.get(peer) ?? 1, b: bal.get(peer) ?? {} })
  }
  return out
}

/** a gauge over the peers whose status entry has the field `value` reads (undefined: no sample) */
function partial(name: string, help: string, type: 'counter' | 'gauge', list: PeerRow[], value: (b: PeerBalance) => number | undefined): Family {
  const samples = list.flatMap((r) => {
    const v = value(r.b)
    return v === undefined ? [] : [{ labels: r.labels, value: v }]
  })
  return { name, help, type, samples }
}

function simple(name: string, help: string, type: 'counter' | 'gauge', list: PeerRow[], value: (r: PeerRow) => number): Family {
  return { name, help, type, samples: list.map((r) => ({ labels: r.labels, value: value(r) })) }
}

function split<K extends string>(name: string, help: string, label: string, list: PeerRow[], of: (s: PeerStats) => Record<K, number>): Family {
  const samples: Sample[] = []
  for (const r of list) for (const [k, value] of Object.entries<number>(of(r.s))) samples.push({ labels: r.labels, extra: [label, k], value })
  return { name, help, type: 'counter', samples }
}

export function peerFamilies(src: PeerMetricsSource): Family[] {
  const list = rows(src)
  const rounds = src.observer.rounds()
  return [
    simple('checkups_peer_requests_total', 'Attempts sent to the peer (every worker)', 'counter', list, (r) => r.s.requests),
    simple('checkups_peer_selected_total', 'Times the balancer picked the peer for an attempt', 'counter', list, (r) => r.s.selected),
    split('checkups_peer_responses_total', 'Peer responses by status class', 'code_class', list, (s) => s.responses),
    split('checkups_peer_attempts_total', 'Attempts by outcome (ok, connect_error, timeout, reset, http_status, body_error, client_abort, error)', 'outcome', list, (s) => s.outcomes),
    {
      name: 'checkups_peer_response_seconds', help: 'Time from sending an attempt to the peer\'s response head (or failure)', type: 'histogram',
      samples: list.flatMap((r) => histogramSamples('checkups_peer_response_seconds', r.labels, LATENCY_BOUNDS, r.s.latency.buckets.map((b) => b.count), r.s.latency.sum_ms / 1000)),
    },
    simple('checkups_peer_up', '1 when the peer is selectable (heartbeat not err, passive not err), else 0', 'gauge', list, (r) => r.up),
    simple('checkups_peer_inflight', 'Attempts in flight to the peer now', 'gauge', list, (r) => r.s.inflight),
    partial('checkups_peer_ejections_total', 'Outlier ejections of the peer so far (upstreams with outlier_detection)', 'counter', list, (b) => b.outlier?.ejections),
    partial('checkups_peer_ejected_until_seconds', 'Until when the peer is ejected, seconds since the epoch; 0 when it is in (upstreams with outlier_detection)', 'gauge', list, (b) => b.outlier === undefined ? undefined : b.outlier.ejected_until ?? 0),
    partial('checkups_peer_slow_start_factor', 'Share of its configured weight the peer gets now: 0.1-1 while it ramps, else 1 (upstreams with slow_start)', 'gauge', list, (b) => b.slow_start?.factor),
    partial('checkups_peer_latency_cost_seconds', 'The latency cost p2c scores the peer with (p2c upstreams)', 'gauge', list, (b) => b.latency_cost_ms === undefined ? undefined : b.latency_cost_ms / 1000),
    simple('checkups_peer_received_bytes_total', 'Bytes received from the peer', 'counter', list, (r) => r.s.bytes_in),
    simple('checkups_peer_sent_bytes_total', 'Bytes sent to the peer', 'counter', list, (r) => r.s.bytes_out),
    simple('checkups_peer_heartbeat_checks_total', 'Heartbeat probes of the peer', 'counter', list, (r) => r.s.heartbeat.checks),
    simple('checkups_peer_heartbeat_failures_total', 'Heartbeat probes of the peer that failed', 'counter', list, (r) => r.s.heartbeat.failures),
    simple('checkups_peer_downtime_seconds_total', 'Time the heartbeat (or an admin) held the peer down', 'counter', list, (r) => r.s.downtime_ms / 1000),
    split('checkups_health_transitions_total', 'Health transitions by cause (heartbeat, passive, admin)', 'cause', list, (s) => s.transitions),
    {
      name: 'checkups_heartbeat_round_seconds', help: 'Duration of committed heartbeat rounds', type: 'histogram',
      samples: histogramSamples('checkups_heartbeat_round_seconds', {}, ROUND_BOUNDS, rounds.buckets, rounds.sum),
    },
  ]
}
