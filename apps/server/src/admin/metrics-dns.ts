/**
 * DNS families of `GET /metrics` (`global.dns`), computed at scrape time from getStatus().dns —
 * the records the heartbeat leader publishes in the config zone — so every worker answers with
 * the same values. Nothing is registered values-wise without `global.dns` (no `dns` in status).
 *
 * | metric | type | labels | source |
 * |---|---|---|---|
 * | `checkups_dns_addresses` | gauge | name | addresses published for a server hostname |
 * | `checkups_dns_stale` | gauge | name | 1 when the last lookup failed (last addresses kept) |
 * | `checkups_dns_age_seconds` | gauge | name | seconds since the last successful lookup (-1 = never) |
 * | `checkups_dns_lookup_failures_total` | counter | name | failed lookups since the name was first published |
 */
import { Counter, Gauge, type Registry } from 'prom-client'

interface DnsEntry { addresses?: unknown; stale?: unknown; age?: unknown; failures?: unknown }

function entries(status: Record<string, unknown>): [string, DnsEntry][] {
  const d = status['dns']
  return typeof d === 'object' && d !== null ? Object.entries(d as Record<string, DnsEntry>) : []
}

/** Registers the DNS families on `registry`, reading `status()` at each scrape. */
export function registerDnsMetrics(registry: Registry, status: () => Record<string, unknown>): void {
  const gauge = (name: string, help: string, value: (e: DnsEntry) => number): void => {
    new Gauge({
      name, help, labelNames: ['name'] as const, registers: [registry],
      collect() {
        this.reset()
        for (const [n, e] of entries(status())) this.set({ name: n }, value(e))
      },
    })
  }
  gauge('checkups_dns_addresses', 'Addresses published for a server hostname (global.dns)', (e) => (Array.isArray(e.addresses) ? e.addresses.length : 0))
  gauge('checkups_dns_stale', '1 when the last lookup of a hostname failed and its last addresses are kept', (e) => (e.stale === true ? 1 : 0))
  gauge('checkups_dns_age_seconds', 'Seconds since the last successful lookup of a hostname (-1 = never)', (e) => (typeof e.age === 'number' ? e.age : -1))
  new Counter({
    name: 'checkups_dns_lookup_failures_total', help: 'Failed lookups of a hostname', labelNames: ['name'] as const, registers: [registry],
    collect() {
      this.reset()
      for (const [n, e] of entries(status())) this.inc({ name: n }, typeof e.failures === 'number' ? e.failures : 0)
    },
  })
}
