/**
 * Header rewriting between client and peer (RFC 9110 §7.6.1).
 *
 * Invariants:
 * - Hop-by-hop headers never cross the proxy in either direction: connection, keep-alive,
 *   proxy-*, te, trailer, transfer-encoding, upgrade, and every header named in Connection.
 *   `expect` is answered by the proxy's own server (100-continue) and not forwarded.
 * - Host is passed through unchanged (undici sends a `host` header instead of the origin's).
 * - X-Forwarded-For gets the client address appended; X-Forwarded-Proto and -Host are set
 *   to what this proxy saw (any client-sent value is replaced, as nginx configs usually do).
 * - Responses get `x-checkups-worker: <id>` (DESIGN.md §apps/server).
 */
import type { IncomingMessage } from 'node:http'

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
])

function isHopByHop(lower: string): boolean {
  return HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')
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
      if (name && !isHopByHop(name)) (tokens ??= new Set()).add(name)
    }
  }
  return tokens
}

/**
 * Headers for the peer, as a flat [name, value, ...] list (original case and order kept).
 * `proto` is this listener's scheme.
 */
export function upstreamRequestHeaders(req: IncomingMessage, proto: string): string[] {
  const raw = req.rawHeaders
  const named = connectionTokens(req.headers.connection)
  const out: string[] = []
  let xff: string | undefined
  let host: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    const lower = name.toLowerCase()
    if (isHopByHop(lower) || named?.has(lower)) continue
    if (lower === 'x-forwarded-for') {
      xff = xff === undefined ? value : `${xff}, ${value}`
      continue
    }
    if (lower === 'x-forwarded-proto' || lower === 'x-forwarded-host') continue
    if (lower === 'host') host = value
    out.push(name, value)
  }
  const client = req.socket.remoteAddress ?? ''
  out.push('x-forwarded-for', xff === undefined ? client : `${xff}, ${client}`)
  out.push('x-forwarded-proto', proto)
  if (host !== undefined) out.push('x-forwarded-host', host)
  return out
}

/**
 * Headers for the client from a peer's raw response headers ([name, value, ...] buffers), as
 * a flat list for `res.writeHead` (case, order and repeats kept; values as latin1 so bytes
 * pass unchanged).
 */
export function clientResponseHeaders(raw: readonly Buffer[], workerId: string): string[] {
  const out: string[] = []
  let named: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1')
    const lower = name.toLowerCase()
    const value = (raw[i + 1] as Buffer).toString('latin1')
    if (lower === 'connection') {
      named = connectionTokens(value, named)
      continue
    }
    if (isHopByHop(lower)) continue
    out.push(name, value)
  }
  if (named) {
    let w = 0
    for (let i = 0; i < out.length; i += 2) {
      if (named.has((out[i] as string).toLowerCase())) continue
      out[w++] = out[i] as string
      out[w++] = out[i + 1] as string
    }
    out.length = w
  }
  out.push('x-checkups-worker', workerId)
  return out
}
