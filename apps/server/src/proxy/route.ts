/**
 * Routing: Host and/or longest path prefix → upstream key (`server.routes`).
 *
 * Invariants:
 * - As nginx picks a server block by name before a location: routes naming a host that
 *   matches are tried before host-less ones; within each group the longest `path_prefix`
 *   wins; on equal prefixes, the earlier route wins. The table is sorted once.
 * - `path_prefix` is a plain string prefix of the path (query excluded), like an nginx prefix
 *   location; with `strip_prefix` it is removed and an empty remainder becomes `/`.
 */
import { ProxyError } from './errors.js'
import type { RouteConfig } from './types.js'

export interface Route {
  /** lowercased exact host, or a `.suffix` for `*.suffix`; null = any host */
  readonly host: string | null
  readonly wildcard: boolean
  readonly prefix: string
  readonly upstream: string
  readonly strip: boolean
}

export interface RouteTable {
  readonly routes: readonly Route[]
  match(hostHeader: string | undefined, path: string): Route | undefined
}

function compileRoute(raw: unknown, i: number): Route {
  const r = raw as RouteConfig
  if (typeof r !== 'object' || r === null || typeof r.upstream !== 'string' || r.upstream === '') {
    throw new ProxyError('PRX_ERR_INVALID_CONFIG', `server.routes[${i}].upstream: must be a non-empty string`)
  }
  const prefix = r.path_prefix ?? '/'
  if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
    throw new ProxyError('PRX_ERR_INVALID_CONFIG', `server.routes[${i}].path_prefix: must start with /`)
  }
  let host: string | null = null
  let wildcard = false
  if (r.host !== undefined && r.host !== null && r.host !== '') {
    if (typeof r.host !== 'string') throw new ProxyError('PRX_ERR_INVALID_CONFIG', `server.routes[${i}].host: must be a string`)
    host = r.host.toLowerCase()
    if (host.startsWith('*.')) {
      wildcard = true
      host = host.slice(1)
    }
  }
  return { host, wildcard, prefix, upstream: r.upstream, strip: r.strip_prefix === true }
}

/** Host header without port, lowercased (`[::1]:80` → `[::1]`). */
export function hostOnly(hostHeader: string | undefined): string {
  if (!hostHeader) return ''
  const h = hostHeader.toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end === -1 ? h : h.slice(0, end + 1)
  }
  const colon = h.indexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

function hostMatches(route: Route, host: string): boolean {
  if (route.host === null) return true
  return route.wildcard ? host.endsWith(route.host) && host.length > route.host.length : host === route.host
}

export function compileRoutes(routes: readonly unknown[] | undefined): RouteTable {
  const list = (routes ?? []).map(compileRoute)
  const order = list.map((r, i) => ({ r, i }))
  order.sort((a, b) => {
    const ha = a.r.host === null ? 1 : 0
    const hb = b.r.host === null ? 1 : 0
    return ha - hb || b.r.prefix.length - a.r.prefix.length || a.i - b.i
  })
  const sorted = order.map((o) => o.r)
  const anyHost = sorted.some((r) => r.host !== null)
  return {
    routes: sorted,
    match(hostHeader, path) {
      const host = anyHost ? hostOnly(hostHeader) : ''
      for (const r of sorted) {
        if (path.startsWith(r.prefix) && hostMatches(r, host)) return r
      }
      return undefined
    },
  }
}

/** The request target sent upstream: `url` with the route's prefix removed when stripping. */
export function upstreamPath(route: Route, url: string): string {
  if (!route.strip || route.prefix === '/') return url
  const rest = url.slice(route.prefix.length)
  if (rest === '') return '/'
  return rest.startsWith('/') ? rest : `/${rest}`
}

/** Path part of a request target (query excluded). */
export function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}
