/**
 * The proxy's per-request observer: gives a request without one an `X-Request-Id` (it is
 * forwarded to the peer like any request header), and when the exchange ends writes the
 * access-log line and adds the bytes to the serving peer's counters.
 *
 * Bytes are counted on the client's socket (written = to the client, read = from it) between
 * the request's start and its end; keep-alive requests on one connection run one after
 * another, so the difference is this request's.
 *
 * With the access log off nothing here would record a request id, a time or an entry, so
 * none is made: only the byte counts (when per-peer statistics are on), and no observer at
 * all when they are off too.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ObservedCall, RequestObserver } from '../proxy/types.js'
import { accessLogOff, type AccessLog } from './index.js'

export interface PeerBytes {
  bytes(skey: string, host: string, port: number, bytesIn: number, bytesOut: number): void
}

/** A request id: the client's `X-Request-Id`, else a new one added to the request. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  const first = Array.isArray(given) ? given[0] : given
  if (first !== undefined && first !== '') return first
  const id = randomUUID()
  req.headers['x-request-id'] = id
  req.rawHeaders.push('x-request-id', id)
  return id
}

/** Adds the peer's share of the client socket's bytes when `call` was served by a peer. */
function countBytes(peers: PeerBytes, upstream: string | null, call: ObservedCall | null, toClient: number, fromClient: number): void {
  const host = call?.peerHost ?? null
  if (host === null || upstream === null) return
  peers.bytes(upstream, host, (call as ObservedCall).peerPort, toClient, fromClient)
}

/** Byte counts only (access log off, statistics on). */
function bytesObserver(peers: PeerBytes): RequestObserver {
  return (req: IncomingMessage, res: ServerResponse, upstream: string | null) => {
    const sock = req.socket
    const w0 = sock.bytesWritten
    const r0 = sock.bytesRead
    let call: ObservedCall | null = null
    res.once('close', () => countBytes(peers, upstream, call, sock.bytesWritten - w0, sock.bytesRead - r0))
    return (c) => {
      call = c
    }
  }
}

/** The observer for `log` and `peers`; undefined when neither wants anything. */
export function requestObserver(log: AccessLog, worker: number, peers?: PeerBytes): RequestObserver | undefined {
  if (accessLogOff(log)) return peers ? bytesObserver(peers) : undefined
  return (req: IncomingMessage, res: ServerResponse, upstream: string | null) => {
    const time = Date.now()
    const t0 = performance.now()
    const id = requestId(req)
    const sock = req.socket
    const w0 = sock.bytesWritten
    const r0 = sock.bytesRead
    let call: ObservedCall | null = null
    res.once('close', () => {
      const bytes = sock.bytesWritten - w0
      const peer = call?.peer ?? null
      if (peers) countBytes(peers, upstream, call, bytes, sock.bytesRead - r0)
      log.log({
        time, client: sock.remoteAddress ?? '', method: req.method ?? '', path: req.url ?? '',
        status: res.headersSent ? res.statusCode : 499, bytes, duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
        upstream, peer, attempts: call?.attempts ?? 0, request_id: id, worker,
        referer: req.headers.referer, user_agent: req.headers['user-agent'], http_version: req.httpVersion,
      })
    })
    return (c) => {
      call = c
    }
  }
}
