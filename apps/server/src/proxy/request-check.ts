/**
 * What is refused before any peer is picked: requests the proxy cannot or must not forward
 * because of the client. Nothing here touches checkups, so a hostile client can never make
 * a healthy peer look failed.
 *
 * Invariants:
 * - More header fields than `max_headers` → 431 (the listener's own cap is set one above, so
 *   an excess is seen here instead of being dropped silently).
 * - Two Host headers → 400 (RFC 9112 §3.2: exactly one); none on HTTP/1.1 → 400 (checked here,
 *   not by node:http, whose own 400 would still let a request pipelined behind it through).
 * - An HTTP/1 request line naming any version but 1.0 or 1.1 (`HTTP/2.0`, HTTP/0.9's bare
 *   `GET /`) → 400: the parser accepts them, the peer must never see them.
 * - A Transfer-Encoding whose last coding is not `chunked` (`xchunked`, `chunked-false`) → 400
 *   before any peer is contacted (RFC 9112 §6.3; the parser would only fail on the body).
 * - TRACE/TRACK → 405 unless the route sets `allow_trace` (it would echo credentials).
 * - A Content-Length above the route's `max_body_size` → 413; a chunked body is counted as
 *   it streams (body.ts) and cut at the same limit.
 */
import type { IncomingMessage } from 'node:http'
import { ProxyError } from './errors.js'
import type { Route } from './route.js'

/** The Host the client named: `Host`, or HTTP/2's `:authority`. */
export function hostHeaderOf(req: IncomingMessage): string | undefined {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined)
}

export function headerFieldCount(req: IncomingMessage): number {
  return req.rawHeaders.length >> 1
}

function hostCount(raw: readonly string[]): number {
  let n = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length === 4 && name.toLowerCase() === 'host') n++
  }
  return n
}

/** Refusals that do not depend on the route. */
export function checkHead(req: IncomingMessage, maxHeaders: number): ProxyError | undefined {
  // an HTTP/2 stream (compatibility API) has `stream`; anything else came through the HTTP/1 parser
  if (!('stream' in req) && (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1)) {
    return new ProxyError('PRX_ERR_BAD_REQUEST', `bad request: unsupported HTTP version ${req.httpVersion}`)
  }
  const te = req.headers['transfer-encoding']
  if (te !== undefined && !/(?:^|,)[ \t]*chunked[ \t]*$/i.test(te)) {
    return new ProxyError('PRX_ERR_BAD_REQUEST', 'bad request: Transfer-Encoding must end with chunked')
  }
  if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
    return new ProxyError('PRX_ERR_BAD_REQUEST', 'bad request: no Host header')
  }
  if (headerFieldCount(req) > maxHeaders) {
    return new ProxyError('PRX_ERR_HEADERS_TOO_MANY', `request header fields too large: more than ${maxHeaders} fields`)
  }
  if (req.headers.host !== undefined && hostCount(req.rawHeaders) > 1) {
    return new ProxyError('PRX_ERR_BAD_REQUEST', 'bad request: more than one Host header')
  }
  return undefined
}

/** Refusals by the route's policy. */
export function checkForRoute(req: IncomingMessage, route: Route): ProxyError | undefined {
  const method = req.method ?? 'GET'
  if ((method === 'TRACE' || method === 'TRACK') && !route.policy.allowTrace) {
    return new ProxyError('PRX_ERR_METHOD_NOT_ALLOWED', `method not allowed: ${method}`)
  }
  const cl = req.headers['content-length']
  if (cl !== undefined && Number(cl) > route.policy.maxBodySize) {
    return new ProxyError('PRX_ERR_BODY_TOO_LARGE', `request body too large: ${cl} bytes, limit ${route.policy.maxBodySize}`)
  }
  return undefined
}
