/**
 * The published answer for one server hostname (`global.dns`): what every worker's view turns
 * into peers, and what status / metrics show.
 *
 * Invariants
 * - `checkups:dns:<name>` and `checkups:dns_names` live in the config zone and are written
 *   only by the heartbeat leader's DnsRefresher (keys.ts); readers never write them.
 * - `name` is the key form of a hostname: lower case, without a trailing dot (DNS names are
 *   case-insensitive, `a.b.` and `a.b` are one name).
 * - `addresses` are sorted and distinct; they are empty only until a first lookup succeeded.
 *   A failed lookup keeps them and sets `stale` (with `error`); the next success clears it.
 * - Stored with `safeSet`: a record never evicts an upstream config.
 */
import { decodeRecord, encodeRecord } from '../records.js'
import { KEY } from '../keys.js'
import { type Dict, asBytes } from '../zone-types.js'

export interface DnsRecord {
  name: string
  addresses: string[]
  /** seconds the current addresses are trusted for: the records' TTL within [min_ttl, max_ttl] */
  ttl: number
  /** ms since the epoch of the last successful lookup (0 = never) */
  resolved_at: number
  /** ms since the epoch of the last lookup, successful or not */
  checked_at: number
  /** ms since the epoch when the leader looks the name up again */
  next_at: number
  /** the last lookup failed: `addresses` are the last good ones (or none yet) */
  stale: boolean
  error: string | null
  /** failed lookups in a row (backs the retry off) */
  failures: number
  /** failed lookups ever (the metric) */
  failures_total: number
}

/** The key form of a hostname. */
export function dnsKey(host: string): string {
  return host.toLowerCase().replace(/\.$/, '')
}

export function readDns(config: Dict, name: string): DnsRecord | undefined {
  return decodeRecord<DnsRecord>(asBytes(config.get(KEY.dns(name))))
}

/** Stores `rec` (false when the zone has no room for it). */
export function writeDns(config: Dict, rec: DnsRecord): boolean {
  return config.safeSet(KEY.dns(rec.name), encodeRecord(rec)).ok
}

export function readDnsNames(config: Dict): string[] {
  return decodeRecord<string[]>(asBytes(config.get(KEY.DNS_NAMES))) ?? []
}

export function writeDnsNames(config: Dict, names: readonly string[]): boolean {
  return config.safeSet(KEY.DNS_NAMES, encodeRecord([...names])).ok
}

/** What status shows of a name: its addresses, their age (seconds, null = never resolved), stale. */
export interface DnsView {
  name: string
  addresses: string[]
  age: number | null
  stale: boolean
}

export function dnsView(rec: DnsRecord | undefined, name: string, now: number): DnsView {
  if (rec === undefined) return { name, addresses: [], age: null, stale: false }
  const age = rec.resolved_at > 0 ? Math.max(0, Math.round((now - rec.resolved_at) / 100) / 10) : null
  return { name, addresses: [...rec.addresses], age, stale: rec.stale }
}
