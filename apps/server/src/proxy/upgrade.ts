/**
 * The listener's `upgrade` event (WebSocket and other `Upgrade:` protocols): the same checks
 * and routing as a plain request, the peer chosen through readyOk, then a spliced tunnel.
 *
 * Invariants:
 * - A refusal (bad path, too many headers, no route, 413/405 rules) is answered on the raw
 *   socket before any peer is picked; nothing counts against a peer.
 * - Each readyOk attempt is one peer: a connect failure, a read timeout or a reset before the
 *   response head rejects the attempt (passive accounting and the next peer within `try`,
 *   subject to the route's next_upstream); a response head accepts it. A status the route
 *   lists in next_upstream counts as a failure and the next peer is tried.
 * - The client leaving during the attempts ends the call without blaming the peer.
 * - The upgrade request is forwarded with `Connection: upgrade` and its `Upgrade` value (the
 *   only hop-by-hop headers that must cross), plus the usual X-Forwarded-*.
 */
import type { IncomingMessage } from 'node:http'
import type { AttemptContext } from '@checkups/core'
import type { Duplex } from 'node:stream'
import { codeOf, httpErrorOf, isTimeout, ProxyError, type HttpError } from './errors.js'
import { admit, type HandlerDeps } from './handler.js'
import { upstreamRequestHeaders } from './headers.js'
import type { Route } from './route.js'
import { exchangeHead, splice, type PeerHead } from './tunnel.js'
import type { PeerTlsResolver } from './upstream-tls.js'

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Content Too Large', 431: 'Request Header Fields Too Large', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }

function answer(socket: Duplex, err: HttpError): void {
  if (socket.destroyed) return
  const body = `${err.status} ${err.message}\n`
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  )
}

function requestHead(req: IncomingMessage, path: string, route: Route, proto: string): string {
  const h = upstreamRequestHeaders(req, proto, route.policy.request)
  let head = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`
  for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`
  return `${head}connection: upgrade\r\nupgrade: ${req.headers.upgrade ?? ''}\r\n\r\n`
}

export function createUpgradeHandler(deps: HandlerDeps, tlsOf: PeerTlsResolver = deps.tlsOf): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, early) => {
    socket.on('error', () => socket.destroy())
    const a = admit(deps, req)
    if (a instanceof ProxyError) return answer(socket, httpErrorOf(a, undefined))
    void runUpgrade(deps, tlsOf, a.route, req, socket, early, requestHead(req, a.target, a.route, deps.proto))
  }
}

const STOP = Symbol('stop')

async function runUpgrade(deps: HandlerDeps, tlsOf: PeerTlsResolver, route: Route, req: IncomingMessage, socket: Duplex, early: Buffer, head: string): Promise<void> {
  const signal = { gone: false }
  socket.once('close', () => (signal.gone = true))
  const p = route.policy
  let held: PeerHead | undefined
  let lastError: unknown
  let attempts = 0
  const attempt = (host: string, port: number, ctx: AttemptContext): Promise<PeerHead | false | typeof STOP> | typeof STOP => {
    if (signal.gone) {
      ctx.report('client_abort')
      return STOP
    }
    if (attempts > 0 && lastError !== undefined && !(isTimeout(lastError) ? p.next.timeout : p.next.error)) return STOP
    attempts++
    held?.socket.destroy()
    held = undefined
    lastError = undefined
    const connectMs = Math.round(p.timeoutsMs.connect ?? ctx.timeouts.connect)
    const readMs = Math.round(p.timeoutsMs.read ?? ctx.timeouts.read)
    return exchangeHead({ host, port, tls: tlsOf(route.upstream, host) }, head, early, connectMs, readMs, signal).then(
      (r) => {
        if (signal.gone) {
          r.socket.destroy()
          ctx.report('client_abort')
          return STOP
        }
        held = r
        return p.next.statuses.has(r.status) ? false : r
      },
      (err: unknown) => {
        if (signal.gone || codeOf(err) === 'PRX_ERR_CLIENT_ABORTED') {
          ctx.report('client_abort')
          return STOP
        }
        lastError = err
        throw err
      },
    )
  }
  const opts = { ...p.tryOptions, request: req }
  let failure: unknown
  try {
    await deps.checkups.readyOk(route.upstream, attempt, opts)
  } catch (err) {
    failure = err
  }
  if (signal.gone) {
    held?.socket.destroy()
    return
  }
  if (held === undefined) {
    const httpErr = httpErrorOf(failure, lastError)
    deps.logger?.warn({ event: 'proxy_error', upstream: route.upstream, status: httpErr.status, upgrade: true, attempts, last: codeOf(lastError) }, `proxy: ${httpErr.message}`)
    return answer(socket, httpErr)
  }
  if (held.status === 101) {
    socket.write(held.head)
    if (held.rest.length > 0) socket.write(held.rest)
    return splice(socket, held.socket, deps.limits.wsIdleTimeoutMs)
  }
  relayRefusal(socket, held, deps.limits.wsIdleTimeoutMs)
}

/**
 * The peer answered without switching: its response goes to the client as sent, with
 * `Connection: close`, and both sockets close once its body (Content-Length) is through, or
 * when the peer closes or idles.
 */
function relayRefusal(socket: Duplex, held: PeerHead, idleMs: number): void {
  const text = held.head.toString('latin1')
  const cl = /\r\ncontent-length:[ \t]*(\d+)/i.exec(text)
  const head = text.replace(/\r\nconnection:[^\r]*/gi, '').replace(/\r\n\r\n$/, '\r\nconnection: close\r\n\r\n')
  socket.write(head, 'latin1')
  let left = cl ? Number(cl[1]) : Number.POSITIVE_INFINITY
  const peer = held.socket
  const end = (): void => {
    peer.destroy()
    socket.end()
  }
  const pass = (chunk: Buffer): void => {
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk
    left -= part.length
    if (part.length > 0 && !socket.write(part)) {
      peer.pause()
      socket.once('drain', () => peer.resume())
    }
    if (left <= 0) end()
  }
  peer.setTimeout(idleMs, end)
  peer.on('error', end)
  peer.on('end', end)
  socket.on('close', () => peer.destroy())
  if (held.rest.length > 0) pass(held.rest)
  if (left > 0) {
    peer.on('data', pass)
    peer.resume()
  }
}
