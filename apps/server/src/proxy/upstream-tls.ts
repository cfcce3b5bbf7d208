/**
 * TLS towards upstreams declared with `scheme: 'https'` and `tls: { servername, ca,
 * reject_unauthorized, cert, key }` (file paths): the connect options for a peer, read once
 * per worker (a reload starts new workers, which read the files again).
 *
 * Invariants:
 * - An http upstream gets undefined (plain TCP); nothing is read for it.
 * - The options of one upstream are built once per distinct `tls` object and reused, so the
 *   data path never touches the file system; a dynamic update brings a new object and so new
 *   options.
 * - Certificate verification is on unless `reject_unauthorized: false` is given; the SNI name
 *   is `servername`, else the peer's host when it is a name (never an IP literal, RFC 6066 §3),
 *   else — a peer resolved from a hostname by `global.dns` — that hostname.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import type { ProxyCheckups, UpstreamTlsConfig } from './types.js'

export type PeerTlsResolver = (skey: string, host: string) => ConnectionOptions | undefined

/** The TLS connect options from an upstream's `tls` section (files read here). */
export function tlsOptions(tls: UpstreamTlsConfig | null | undefined, host: string, resolvedFrom?: string): ConnectionOptions {
  const read = (f: string | null | undefined): Buffer | undefined => (f ? readFileSync(f) : undefined)
  const o: ConnectionOptions = { rejectUnauthorized: tls?.reject_unauthorized !== false }
  const ca = read(tls?.ca)
  const cert = read(tls?.cert)
  const key = read(tls?.key)
  if (ca) o.ca = ca
  if (cert) o.cert = cert
  if (key) o.key = key
  const name = tls?.servername ?? (isIP(host) === 0 ? host : resolvedFrom)
  if (name) o.servername = name
  return o
}

export function createTlsResolver(checkups: ProxyCheckups): PeerTlsResolver {
  const cache = new WeakMap<object, Map<string, ConnectionOptions>>()
  const plain = new Map<string, ConnectionOptions>()
  return (skey, host) => {
    const ups = checkups.getUpstream?.(skey)
    if (!ups || ups.scheme !== 'https') return undefined
    const key = ups.tls ?? undefined
    const byHost = key ? (cache.get(key) ?? new Map<string, ConnectionOptions>()) : plain
    if (key && !cache.has(key)) cache.set(key, byHost)
    let o = byHost.get(host)
    if (!o) {
      o = tlsOptions(key, host, checkups.dnsNameOf?.(skey, host))
      byHost.set(host, o)
    }
    return o
  }
}
