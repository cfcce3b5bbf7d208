/**
 * TLS towards an upstream declared with `scheme: 'https'` and `tls: { servername, ca, cert, key,
 * reject_unauthorized }` (file paths): the connect options for one of its peers. The proxy
 * builds them once per peer and `tls` object; the heartbeat's https probe builds them per probe.
 *
 * Invariants
 * - Certificate verification is on unless `reject_unauthorized: false` is given.
 * - The SNI name is `servername`, else the peer's host when it is a name (never an IP literal,
 *   RFC 6066 §3), else — a peer resolved from a hostname by `global.dns` — that hostname.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { ConnectionOptions } from 'node:tls'

/** An upstream's `tls` section as written or resolved (file paths). */
export interface UpstreamTlsInput {
  readonly servername?: string | null
  readonly ca?: string | null
  readonly cert?: string | null
  readonly key?: string | null
  readonly reject_unauthorized?: boolean | null
}

/** The TLS connect options for `host` from an upstream's `tls` section (files read here). */
export function upstreamTlsOptions(tls: UpstreamTlsInput | null | undefined, host: string, resolvedFrom?: string): ConnectionOptions {
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
