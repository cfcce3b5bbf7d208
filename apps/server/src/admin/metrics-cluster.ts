/**
 * Cluster-store families of `GET /metrics` (`global.cluster_store`), computed at scrape time
 * from getStatus().cluster_store — the link the primary's sync agent publishes in the config
 * zone — so every worker answers with the same values. No samples without a cluster store.
 *
 * | metric | type | labels | source |
 * |---|---|---|---|
 * | `checkups_cluster_store_link` | gauge | link | 1 for this node's link state (starting, up, down, unseeded) |
 * | `checkups_cluster_store` | gauge | field | applied, store_version, lag, resyncs |
 */
import { Gauge, type Registry } from 'prom-client'

const LINKS = ['starting', 'up', 'down', 'unseeded'] as const
const FIELDS = ['applied', 'store_version', 'lag', 'resyncs'] as const

function clusterStore(status: Record<string, unknown>): Record<string, unknown> | undefined {
  const cs = status['cluster_store']
  return typeof cs === 'object' && cs !== null ? (cs as Record<string, unknown>) : undefined
}

/** Registers the cluster-store families on `registry`, reading `status()` at each scrape. */
export function registerClusterMetrics(registry: Registry, status: () => Record<string, unknown>): void {
  const family = <L extends string>(name: string, help: string, label: L, values: readonly string[], value: (cs: Record<string, unknown>, v: string) => number): void => {
    new Gauge({
      name, help, labelNames: [label], registers: [registry],
      collect() {
        this.reset()
        const cs = clusterStore(status())
        if (cs) for (const v of values) this.set({ [label]: v } as Record<L, string>, value(cs, v))
      },
    })
  }
  family('checkups_cluster_store_link', 'With global.cluster_store: 1 for the link state this node is in (starting, up, down, unseeded)',
    'link', LINKS, (cs, link) => (cs['link'] === link ? 1 : 0))
  family('checkups_cluster_store', 'With global.cluster_store: applied (store version this node serves), store_version, lag, resyncs',
    'field', FIELDS, (cs, field) => Number(cs[field]) || 0)
}
