/**
 * Admin metrics (`GET /metrics`, Prometheus text via prom-client), declared once here
 * (observability is a contract; names below are stable).
 *
 * | metric | type | labels | source |
 * |---|---|---|---|
 * | `checkups_upstream_peers` | gauge | skey, status | getStatus() peers by status (shared: same on every worker) |
 * | `checkups_config_version` | gauge | | getStatus().shd_config_version (shared) |
 * | `checkups_heartbeat_last_check_timestamp` | gauge | | getStatus().last_check_time, seconds since the epoch |
 * | `checkups_heartbeat_timer_alive` | gauge | | 1 when a heartbeat leader is alive |
 * | `checkups_cluster_store_link`, `checkups_cluster_store` | gauge | link / field | metrics-cluster.ts (global.cluster_store) |
 * | `checkups_admin_requests_total` | counter | worker, method, route, status | each worker's admin requests (process snapshot) |
 * | `checkups_dns_*` (addresses, stale, age_seconds, lookup_failures_total) | | name | metrics-dns.ts (global.dns) |
 * | `checkups_peer_*`, `checkups_health_transitions_total`, `checkups_heartbeat_round_seconds` | | upstream, peer | metrics-peers.ts (statistics zone) |
 * | prom-client's default metrics (`process_*`, `nodejs_*`) | | worker (`primary` or the id) | process snapshots |
 *
 * Invariants: registries are per process (not prom-client's global one). Shared-state gauges
 * and per-peer families are computed at scrape time from shared memory, so any worker answers
 * with the same values. Per-process families (default metrics, the admin request counter)
 * live in the process registry, which each process publishes into its block of the statistics
 * zone (process-metrics.ts); a scrape renders every process's last snapshot, so it shows all
 * workers and the primary whichever worker answers.
 */
import { Counter, Gauge, Registry } from 'prom-client'
import type { ProcessBlocks } from '@checkups/core'
import { registerClusterMetrics } from './metrics-cluster.js'
import { registerDnsMetrics } from './metrics-dns.js'
import { peerFamilies, type PeerMetricsSource } from './metrics-peers.js'
import { mergeSnapshots, renderFamilies } from './prom-text.js'
import { DEFAULT_PUBLISH_MS } from './process-metrics.js'

export interface MetricsSource {
  worker: { id: number }
  getStatus(): unknown
  /** the statistics zone's readers (Checkups); without them only the status gauges render */
  getStats?: PeerMetricsSource['getStats']
  observer?: PeerMetricsSource['observer'] & { readonly procs: ProcessBlocks }
}

export interface AdminMetrics {
  readonly registry: Registry
  /** this process's own families (published as its snapshot, see process-metrics.ts) */
  readonly processRegistry: Registry
  /** `route` is the router's pattern (`/upstreams/:skey`), never the raw path (bounded labels) */
  recordRequest(method: string, route: string, status: number): void
  render(): Promise<string>
  readonly contentType: string
}

/**
 * A process block not republished for this long is left out of the scrape: its process is
 * gone (a worker retired by a reload that lowered the count) or stuck. Ten publish periods.
 */
export const STALE_BLOCK_MS = 10 * DEFAULT_PUBLISH_MS

let instance: AdminMetrics | undefined
let source: MetricsSource | undefined

/** The process's metrics; the first call binds the status source (later calls rebind it). */
export function adminMetrics(src?: MetricsSource): AdminMetrics {
  if (src) source = src
  instance ??= createMetrics()
  return instance
}

function createMetrics(): AdminMetrics {
  const registry = new Registry()
  /** the status of the scrape under way (getStatus is linear in peers: once per scrape, not per family) */
  let scrapeStatus: Record<string, unknown> | undefined
  const status = (): Record<string, unknown> => {
    if (scrapeStatus !== undefined) return scrapeStatus
    const s = source?.getStatus()
    return typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {}
  }
  new Gauge({
    name: 'checkups_upstream_peers',
    help: 'Peers of each upstream by status (ok, err, unstable, unchecked)',
    labelNames: ['skey', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [skey, byStatus] of countPeers(status())) {
        for (const [st, n] of byStatus) this.set({ skey, status: st }, n)
      }
    },
  })
  new Gauge({
    name: 'checkups_config_version',
    help: 'Shared config version (config_version), bumped by each dynamic update or delete',
    registers: [registry],
    collect() {
      const v = Number(status()['shd_config_version'])
      this.set(Number.isFinite(v) ? v : 0)
    },
  })
  new Gauge({
    name: 'checkups_heartbeat_last_check_timestamp',
    help: 'End of the last heartbeat round, seconds since the epoch (0 = never)',
    registers: [registry],
    collect() {
      this.set(toEpochSeconds(status()['last_check_time']))
    },
  })
  new Gauge({
    name: 'checkups_heartbeat_timer_alive',
    help: '1 when a heartbeat leader is alive',
    registers: [registry],
    collect() {
      this.set(status()['checkup_timer_alive'] === true ? 1 : 0)
    },
  })
  registerDnsMetrics(registry, status)
  registerClusterMetrics(registry, status)
  const processRegistry = new Registry()
  const requests = new Counter({
    name: 'checkups_admin_requests_total',
    help: 'Admin API requests answered by each worker',
    labelNames: ['worker', 'method', 'route', 'status'] as const,
    registers: [processRegistry],
  })
  return {
    registry,
    processRegistry,
    contentType: registry.contentType,
    recordRequest(method, route, code) {
      requests.inc({ worker: String(source?.worker.id ?? ''), method, route, status: String(code) })
    },
    render: async () => {
      const snapshot = (scrapeStatus = undefined, status())
      scrapeStatus = snapshot
      try {
        let text = await registry.metrics()
        const src = source
        if (src?.getStats && src.observer) {
          const stats = { getStatus: () => snapshot, getStats: src.getStats, observer: src.observer }
          text += renderFamilies(peerFamilies(stats))
          const now = Date.now()
          const live = src.observer.procs.all().filter((p) => now - p.time < STALE_BLOCK_MS)
          text += renderFamilies(mergeSnapshots(live.map((p) => p.text)))
        }
        return text
      } finally {
        if (scrapeStatus === snapshot) scrapeStatus = undefined
      }
    },
  }
}

/** `"cls:<skey>"` → levels (array or named object) → peers `{ status }` → counts per status. */
export function countPeers(status: Record<string, unknown>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>()
  for (const [key, levels] of Object.entries(status)) {
    if (!key.startsWith('cls:') || typeof levels !== 'object' || levels === null) continue
    const counts = new Map<string, number>()
    for (const level of Object.values(levels as Record<string, unknown>)) {
      if (!Array.isArray(level)) continue
      for (const peer of level as Array<{ status?: unknown }>) {
        const st = typeof peer?.status === 'string' ? peer.status : 'unknown'
        counts.set(st, (counts.get(st) ?? 0) + 1)
      }
    }
    out.set(key.slice(4), counts)
  }
  return out
}

function toEpochSeconds(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e12 ? v / 1000 : v
  if (typeof v === 'string') {
    const t = Date.parse(v)
    if (Number.isFinite(t)) return t / 1000
  }
  return 0
}

/** The metrics source of an admin context: its worker and Checkups (status and statistics). */
export function metricsSource(ctx: {
  worker: { id: number }
  checkups: { getStatus(): unknown; getStats: PeerMetricsSource['getStats']; observer: NonNullable<MetricsSource['observer']> }
}): MetricsSource {
  const c = ctx.checkups
  return { worker: ctx.worker, getStatus: () => c.getStatus(), getStats: () => c.getStats(), observer: c.observer }
}
