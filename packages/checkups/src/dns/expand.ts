/**
 * From an upstream as configured to the upstream a worker serves: each server whose host is a
 * name becomes one server per published address (same port, weight, limits and flags, plus
 * `dns_name`). Only with `global.dns`; hosts that are IP addresses are never touched.
 *
 * Invariants
 * - An upstream without names yields `undefined`: the caller keeps the configured object
 *   itself (the default path allocates nothing and compares nothing).
 * - A name with no published addresses yet (the leader has not resolved it, or never could)
 *   stays one server with the name as host, as without `global.dns`: the connection resolves
 *   it then.
 * - `fingerprint` is the published addresses of every name the upstream uses, in server
 *   order: a view is rebuilt only when it changes (not when a record's age or stale flag does).
 */
import { isAddress } from '../config/bounds.js'
import type { ResolvedCluster, ResolvedLevel, ResolvedServer, ResolvedUpstream } from '../config/types.js'
import { levelsOf } from '../config/walk.js'
import { dnsKey } from './record.js'

export interface Served {
  readonly ups: ResolvedUpstream
  readonly fingerprint: string
}

/** The distinct names (key form) the servers of `ups` use. */
export function dnsNames(ups: Pick<ResolvedUpstream, 'cluster'>): string[] {
  const out = new Set<string>()
  for (const l of levelsOf(ups)) for (const s of l.servers) if (!isAddress(s.host)) out.add(dnsKey(s.host))
  return [...out]
}

/** `ups` with its names expanded by `addressesOf` (key form → addresses), or undefined when it has none. */
export function expandUpstream(ups: ResolvedUpstream, addressesOf: (name: string) => readonly string[]): Served | undefined {
  if (dnsNames(ups).length === 0) return undefined
  const prints: string[] = []
  const level = (l: ResolvedLevel): ResolvedLevel => {
    const servers: ResolvedServer[] = []
    for (const s of l.servers) {
      if (isAddress(s.host)) {
        servers.push(s)
        continue
      }
      const name = dnsKey(s.host)
      const addrs = addressesOf(name)
      prints.push(`${name}=${addrs.join(',')}`)
      if (addrs.length === 0) servers.push(Object.freeze({ ...s, dns_name: name }))
      for (const a of addrs) servers.push(Object.freeze({ ...s, host: a, dns_name: name }))
    }
    return Object.freeze({ ...l, servers: Object.freeze(servers) })
  }
  const c = ups.cluster
  const cluster: ResolvedCluster = Array.isArray(c)
    ? Object.freeze((c as readonly ResolvedLevel[]).map(level))
    : Object.freeze(Object.fromEntries(Object.entries(c as Readonly<Record<string, ResolvedLevel>>).map(([k, l]) => [k, level(l)])))
  return { ups: Object.freeze({ ...ups, cluster }), fingerprint: prints.join(';') }
}

/**
 * The hostname an address of `ups` (as served) was resolved from, or undefined: what TLS
 * sends as SNI and verifies for a resolved peer (an IP literal is never a server name).
 */
export function dnsNameOf(ups: Pick<ResolvedUpstream, 'cluster'>, host: string): string | undefined {
  for (const l of levelsOf(ups)) for (const s of l.servers) if (s.host === host && s.dns_name !== undefined) return s.dns_name
  return undefined
}
