/**
 * One lookup of a hostname: every A and AAAA record with its TTL, through a node:dns
 * `Resolver` (`global.dns.resolver`, else the system's servers from resolv.conf).
 *
 * Invariants
 * - A and AAAA are asked at once; a family without records (ENODATA) is simply empty. The
 *   lookup fails only when both families give nothing: the first real error, else ENODATA.
 * - Without `resolver`, a name the DNS servers do not know is looked up once more with the
 *   system's getaddrinfo (`dns.lookup`, which reads /etc/hosts: `localhost`, container names);
 *   such an answer has no TTL, so `ttl` is 0 and the caller's `min_ttl` applies.
 * - Bounded: the resolver gives up after TIMEOUT_MS × TRIES per family.
 */
import { Resolver, lookup as systemLookup } from 'node:dns/promises'

/** Per-try timeout (ms) and tries of a lookup: a dead server costs at most ~4 s. */
export const TIMEOUT_MS = 2000
export const TRIES = 2

export interface Answer {
  /** sorted, distinct */
  addresses: string[]
  /** the smallest TTL of the records, seconds (0 = unknown) */
  ttl: number
}

export type LookupFn = (name: string) => Promise<Answer>

const NOT_FOUND = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN'])

type Rec = { address: string; ttl: number }

function codeOf(e: unknown): string {
  return (e as { code?: unknown } | null)?.code?.toString() ?? (e instanceof Error ? e.message : String(e))
}

/** A lookup function over `resolver` (`ip[:port]`, null = the system's servers). */
export function createLookup(resolver: string | null): LookupFn {
  const r = new Resolver({ timeout: TIMEOUT_MS, tries: TRIES })
  if (resolver !== null) r.setServers([resolver])
  return async (name) => {
    const settled = await Promise.allSettled([r.resolve4(name, { ttl: true }), r.resolve6(name, { ttl: true })])
    const recs: Rec[] = []
    const errors: string[] = []
    for (const s of settled) {
      if (s.status === 'fulfilled') recs.push(...(s.value as Rec[]))
      else if (codeOf(s.reason) !== 'ENODATA') errors.push(codeOf(s.reason))
    }
    if (recs.length > 0) {
      return { addresses: [...new Set(recs.map((x) => x.address))].sort(), ttl: Math.min(...recs.map((x) => x.ttl)) }
    }
    const err = errors[0] ?? 'ENODATA'
    if (resolver === null && NOT_FOUND.has(err)) {
      const found = await systemLookup(name, { all: true }).catch(() => [])
      if (found.length > 0) return { addresses: [...new Set(found.map((x) => x.address))].sort(), ttl: 0 }
    }
    throw new Error(`${err} ${name}`)
  }
}
