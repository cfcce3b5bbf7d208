/**
 * nginx's `proxy_redirect default`: a `Location` or `Refresh` naming the peer that answered
 * is rewritten to the origin the client used, so `http://127.0.0.1:8081/x` never reaches a
 * client.
 *
 * Invariants:
 * - Only an absolute URL whose authority is the answering peer's `host:port` (or its host
 *   alone when the port is the scheme's default) is rewritten; relative and foreign URLs pass
 *   unchanged, as nginx leaves what does not match the proxied URL.
 * - The new origin is this listener's scheme and the client's Host header; no Host → no
 *   rewrite. With `strip_prefix` the route's prefix is put back in front of the path (the
 *   peer answered for the stripped path).
 */
import type { Route } from './route.js'

export interface Peer {
  readonly host: string
  readonly port: number
}

const ABSOLUTE = /^(https?):\/\/([^/?#]*)/i

function authorities(peer: Peer, scheme: string): string[] {
  const h = peer.host.includes(':') && !peer.host.startsWith('[') ? `[${peer.host}]` : peer.host
  const out = [`${h}:${peer.port}`.toLowerCase()]
  if ((scheme === 'http' && peer.port === 80) || (scheme === 'https' && peer.port === 443)) out.push(h.toLowerCase())
  return out
}

/** The rewritten URL, or undefined when `url` does not name the peer. */
export function rewriteUrl(url: string, peer: Peer, proto: string, clientHost: string, route: Route): string | undefined {
  const m = ABSOLUTE.exec(url)
  if (!m) return undefined
  const scheme = (m[1] as string).toLowerCase()
  if (!authorities(peer, scheme).includes((m[2] as string).toLowerCase())) return undefined
  let rest = url.slice(m[0].length)
  if (route.strip && route.prefix !== '/') {
    const prefix = route.prefix.endsWith('/') ? route.prefix.slice(0, -1) : route.prefix
    rest = rest === '' || !rest.startsWith('/') ? `${prefix}/${rest}` : prefix + rest
  }
  return `${proto}://${clientHost}${rest === '' ? '/' : rest}`
}

const REFRESH_URL = /^(\s*\d+\s*[;,]\s*url\s*=\s*['"]?)([^'"]*)(.*)$/i

/** Rewrites Location / Refresh in a flat [name, value, ...] list, in place. */
export function rewriteRedirects(headers: string[], peer: Peer, proto: string, clientHost: string | undefined, route: Route): void {
  if (clientHost === undefined || clientHost === '') return
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string
    if (name.length === 8 && name.toLowerCase() === 'location') {
      const to = rewriteUrl(headers[i + 1] as string, peer, proto, clientHost, route)
      if (to !== undefined) headers[i + 1] = to
    } else if (name.length === 7 && name.toLowerCase() === 'refresh') {
      const m = REFRESH_URL.exec(headers[i + 1] as string)
      const to = m ? rewriteUrl(m[2] as string, peer, proto, clientHost, route) : undefined
      if (m && to !== undefined) headers[i + 1] = `${m[1]}${to}${m[3]}`
    }
  }
}
