/**
 * Header rewriting between client and peer (RFC 9110 §7.6.1).
 *
 * Invariants:
 * - Hop-by-hop headers never cross the proxy in either direction: connection, keep-alive,
 *   proxy-*, te, trailer, transfer-encoding, upgrade, and every header named in Connection.
 *   `expect` is answered by the proxy's own server (100-continue) and not forwarded.
 * - Host is passed through unchanged (undici sends a `host` header instead of the origin's);
 *   an HTTP/2 client's `:authority` becomes the Host of the HTTP/1.1 request, and no other
 *   pseudo-header (`:method`, `:path`, ...) is forwarded as a header.
 * - Connection can name extra hop-by-hop headers, but never Host, Content-Length,
 *   Transfer-Encoding or the X-Forwarded-* this proxy sets (PROTECTED): a client must not be
 *   able to strip the headers that frame or route the message.
 * - A route's header edits apply last: `remove` drops every header of that name, `set`
 *   replaces (framing headers — Connection, Content-Length, Transfer-Encoding, ... — are
 *   refused by the route schema).
 * - X-Forwarded-For gets the client address appended; X-Forwarded-Proto and -Host are set
 *   to what this proxy saw (any client-sent value is replaced, as nginx configs usually do).
 * - Responses get `x-checkups-worker: <id>` only when asked for (`worker_header`).
 */
import type { IncomingMessage } from 'node:http'
import type { HeaderEdits } from './route.js'

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
])

/** names a Connection header can never make hop-by-hop */
export const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'])

function isHopByHop(lower: string): boolean {
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')
}

/** `name` equals the lowercase literal `lower` of the same length, ignoring ASCII case. */
function named(name: string, lower: string): boolean {
  return name === lower || name.toLowerCase() === lower
}

/** What the request side does with one header (HOP: dropped; XFF/XFWD/HOST: rewritten). */
const PASS = 0
const HOP = 1
const XFF = 2
const XFWD = 3
const HOST = 4

/**
 * The header's role by its name, case-insensitively, without lowercasing names that cannot
 * match (the common case): a switch on the length, then one comparison. Same answers as
 * `isHopByHop(lower)` plus the X-Forwarded-* / Host names.
 */
function kindOf(name: string): number {
  switch (name.length) {
    case 2:
      return named(name, 'te') ? HOP : PASS
    case 4:
      return named(name, 'host') ? HOST : PASS
    case 6:
      return named(name, 'expect') || named(name, 'proxy-') ? HOP : PASS
    case 7:
      if (named(name, 'trailer') || named(name, 'upgrade')) return HOP
      break
    case 10:
      if (named(name, 'connection') || named(name, 'keep-alive')) return HOP
      break
    case 15:
      if (named(name, 'x-forwarded-for')) return XFF
      break
    case 16:
      if (named(name, 'x-forwarded-host')) return XFWD
      break
    case 17:
      if (named(name, 'transfer-encoding')) return HOP
      if (named(name, 'x-forwarded-proto')) return XFWD
      break
  }
  const c = name.charCodeAt(0)
  return (c === 0x70 || c === 0x50) && name.length > 6 && name.slice(0, 6).toLowerCase() === 'proxy-' ? HOP : PASS
}

/**
 * Lowercased header names listed in Connection values, beyond the hop-by-hop ones already
 * dropped (`keep-alive`, `close` — by far the common values — add nothing, so no set is made).
 */
function connectionTokens(value: string | string[] | undefined, into?: Set<string>): Set<string> | undefined {
  if (value === undefined) return into
  let tokens = into
  for (const v of Array.isArray(value) ? value : [value]) {
    const lv = v.toLowerCase()
    if (lv === 'keep-alive' || lv === 'close') continue
    for (const t of lv.split(',')) {
      const name = t.trim()
      if (name && !isHopByHop(name) && !PROTECTED.has(name)) (tokens ??= new Set()).add(name)
    }
  }
  return tokens
}

/**
 * Headers for the peer, as a flat [name, value, ...] list (original case and order kept).
 * `proto` is this listener's scheme.
 */
export function upstreamRequestHeaders(req: IncomingMessage, proto: string, edits?: HeaderEdits): string[] {
  const raw = req.rawHeaders
  const namedByConnection = connectionTokens(req.headers.connection)
  const out: string[] = []
  let xff: string | undefined
  let host: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':authority' && host === undefined) host = value
      continue
    }
    const kind = kindOf(name)
    if (kind === HOP || kind === XFWD) continue
    if (namedByConnection?.has(name.toLowerCase())) continue
    if (kind === XFF) {
      xff = xff === undefined ? value : `${xff}, ${value}`
      continue
    }
    if (kind === HOST) host = value
    out.push(name, value)
  }
  if (host !== undefined && req.headers.host === undefined) out.push('host', host)
  const client = req.socket.remoteAddress ?? ''
  out.push('x-forwarded-for', xff === undefined ? client : `${xff}, ${client}`)
  out.push('x-forwarded-proto', proto)
  if (host !== undefined) out.push('x-forwarded-host', host)
  return edits === undefined || edits.drop.size === 0 ? out : applyEdits(out, edits)
}

/** Applies a route's set/remove to a flat header list (in place when nothing is dropped). */
export function applyEdits(list: string[], edits: HeaderEdits): string[] {
  let w = 0
  for (let i = 0; i < list.length; i += 2) {
    if (edits.drop.has((list[i] as string).toLowerCase())) continue
    list[w++] = list[i] as string
    list[w++] = list[i + 1] as string
  }
  list.length = w
  for (const [name, value] of edits.set) list.push(name, value)
  return list
}

/**
 * Headers for the client from a peer's raw response headers ([name, value, ...] buffers), as
 * a flat list for `res.writeHead` (case, order and repeats kept; values as latin1 so bytes
 * pass unchanged).
 */
export function clientResponseHeaders(raw: readonly Buffer[], workerId: string | undefined, edits?: HeaderEdits): string[] {
  const out: string[] = []
  let namedByConnection: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1')
    const value = (raw[i + 1] as Buffer).toString('latin1')
    const kind = kindOf(name)
    if (kind === HOP) {
      if (name.length === 10 && named(name, 'connection')) namedByConnection = connectionTokens(value, namedByConnection)
      continue
    }
    out.push(name, value)
  }
  if (namedByConnection) {
    let w = 0
    for (let i = 0; i < out.length; i += 2) {
      if (namedByConnection.has((out[i] as string).toLowerCase())) continue
      out[w++] = out[i] as string
      out[w++] = out[i + 1] as string
    }
    out.length = w
  }
  if (edits !== undefined && edits.drop.size > 0) applyEdits(out, edits)
  if (workerId !== undefined) out.push('x-checkups-worker', workerId)
  return out
}
