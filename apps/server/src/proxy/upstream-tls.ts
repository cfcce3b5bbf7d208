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
 * - Verification and the SNI name follow `upstreamTlsOptions` (@checkups/core), which the
 *   heartbeat's https probe uses too: a peer the proxy would refuse is never probed ok.
 */
import type { ConnectionOptions } from 'node:tls'
import { upstreamTlsOptions } from '@checkups/core'
import type { ProxyCheckups } from './types.js'

export type PeerTlsResolver = (skey: string, host: string) => ConnectionOptions | undefined

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
      o = upstreamTlsOptions(key, host, checkups.dnsNameOf?.(skey, host))
      byHost.set(host, o)
    }
    return o
  }
}
