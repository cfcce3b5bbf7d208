/**
 * Routing: Host and/or longest path prefix → upstream key (`server.routes`).
 *
 * Invariants:
 * - As nginx picks a server block by name before a location: routes naming a host that
 *   matches are tried before host-less ones; within each group the longest `path_prefix`
 *   wins; on equal prefixes, the earlier route wins. The table is sorted once.
 * - `path_prefix` matches the normalised path (see path.ts; query excluded) on a segment
 *   boundary: `/public` matches `/public` and `/public/x`, never `/publicsecret`; a prefix
 *   ending in `/` is a plain prefix. With `strip_prefix` it is removed and an empty remainder
 *   becomes `/`.
 * - Every route option is validated by options.ts; a route carries its resolved policy.
 */
import { underPrefix } from './path.js'
import { parseRoute, type NextUpstream } from './options.js'

/** A route's retry policy (nginx `proxy_next_upstream`). */
export interface NextPolicy {
  readonly error: boolean
  readonly timeout: boolean
  readonly nonIdempotent: boolean
  /** peer statuses that make the attempt a failure worth the next peer */
  readonly statuses: ReadonlySet<number>
}

export interface HeaderEdits {
  /** [name, value] to set (replacing any header of that name) */
  readonly set: ReadonlyArray<readonly [string, string]>
  /** lowercased names removed, and the lowercased names of `set` (they replace) */
  readonly drop: ReadonlySet<string>
}

export interface RoutePolicy {
  /** milliseconds (the route's seconds × 1000, once); undefined = the upstream's */
  readonly timeoutsMs: { readonly connect?: number | undefined; readonly send?: number | undefined; readonly read?: number | undefined }
  readonly next: NextPolicy
  /** the route's `try` / `try_timeout` as readyOk takes them (only those it sets) */
  readonly tryOptions: { readonly try?: number; readonly try_timeout?: number }
  /** request body limit in bytes */
  readonly maxBodySize: number
  readonly request: HeaderEdits
  readonly response: HeaderEdits
  /** rewrite Location/Refresh naming the peer to the client-facing origin */
  readonly redirect: boolean
  readonly allowTrace: boolean
}

export interface Route {
  /** lowercased exact host, or a `.suffix` for `*.suffix`; null = any host */
  readonly host: string | null
  readonly wildcard: boolean
  readonly prefix: string
  readonly upstream: string
  readonly strip: boolean
  readonly policy: RoutePolicy
}

export interface RouteTable {
  readonly routes: readonly Route[]
  match(hostHeader: string | undefined, path: string): Route | undefined
}

export interface RouteDefaults {
  readonly maxBodySize: number
}

const DEFAULT_NEXT: readonly NextUpstream[] = ['error', 'timeout']

function edits(e: { set: Record<string, string>; remove: string[] }): HeaderEdits {
  const set = Object.entries(e.set).map(([k, v]) => [k, v] as const)
  return { set, drop: new Set([...e.remove.map((n) => n.toLowerCase()), ...set.map(([k]) => k.toLowerCase())]) }
}

/** the route's timeouts (seconds) in ms; an absent one stays absent (the upstream's applies) */
function msOf(t: { connect?: number | undefined; send?: number | undefined; read?: number | undefined } | undefined): RoutePolicy['timeoutsMs'] {
  const ms = (v: number | undefined): number | undefined => (v === undefined ? undefined : v * 1000)
  return { connect: ms(t?.connect), send: ms(t?.send), read: ms(t?.read) }
}

function nextPolicy(list: readonly NextUpstream[]): NextPolicy {
  const on = new Set(list.includes('off') ? [] : list)
  const statuses = new Set<number>()
  for (const n of on) if (n.startsWith('http_')) statuses.add(Number(n.slice(5)))
  return { error: on.has('error'), timeout: on.has('timeout'), nonIdempotent: on.has('non_idempotent'), statuses }
}

function compileRoute(raw: unknown, i: number, defaults: RouteDefaults): Route {
  const r = parseRoute(raw, i)
  let host: string | null = null
  let wildcard = false
  if (r.host !== undefined && r.host !== null && r.host !== '') {
    host = r.host.toLowerCase()
    if (host.startsWith('*.')) {
      wildcard = true
      host = host.slice(1)
    }
  }
  const policy: RoutePolicy = {
    timeoutsMs: msOf(r.timeouts),
    next: nextPolicy(r.next_upstream ?? DEFAULT_NEXT),
    tryOptions: { ...(r.try !== undefined && { try: r.try }), ...(r.try_timeout !== undefined && { try_timeout: r.try_timeout }) },
    maxBodySize: r.max_body_size ?? defaults.maxBodySize,
    request: edits(r.request_headers),
    response: edits(r.response_headers),
    redirect: r.redirect,
    allowTrace: r.allow_trace,
  }
  return { host, wildcard, prefix: r.path_prefix ?? '/', upstream: r.upstream, strip: r.strip_prefix === true, policy }
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

export function compileRoutes(routes: readonly unknown[] | undefined, defaults: RouteDefaults = { maxBodySize: 1024 * 1024 }): RouteTable {
  const list = (routes ?? []).map((r, i) => compileRoute(r, i, defaults))
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
        if (underPrefix(path, r.prefix) && hostMatches(r, host)) return r
      }
      return undefined
    },
  }
}

/**
 * The request target sent upstream: the normalised `path` (with the route's prefix removed
 * when stripping) and the query as the client sent it.
 */
export function upstreamPath(route: Route, path: string, query = ''): string {
  if (!route.strip || route.prefix === '/') return query === '' ? path : path + query
  const rest = path.slice(route.prefix.length)
  const p = rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`
  return query === '' ? p : p + query
}
