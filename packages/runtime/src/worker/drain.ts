/**
 * Graceful close of one served server (nginx's graceful worker shutdown), with connection
 * tracking of our own instead of http's closeIdleConnections(): Node counts a connection
 * whose first request has not been parsed yet as idle and would reset it, and under
 * node:cluster a connection reaches the worker a moment after the primary accepted it.
 *
 * Invariants (from the moment close starts)
 * - No new connections (net.Server.close).
 * - A connection with a request in flight is left alone; its response carries
 *   `Connection: close` if not yet started, else it is ended when that response finishes.
 * - A keep-alive connection between requests is NOT ended at once: its client may have sent
 *   the next request already (it is on the wire or in our buffer), and ending the socket
 *   under it is a reset the client cannot retry safely. Such a request is answered with
 *   `Connection: close`, then the socket ends. A connection that stays idle is left to the
 *   server's own keep-alive timeout (http.Server.keepAliveTimeout, announced to clients in
 *   `Keep-Alive: timeout=`, so they stop reusing it first), and ended after
 *   IDLE_GRACE_MS for a server without one.
 * - A connection that has not sent a request yet gets NEW_CONNECTION_GRACE_MS to send one
 *   (answered with `Connection: close`), then it is destroyed.
 * - A TLS server's connections are tracked as the TLS sockets its requests arrive on, and an
 *   upgraded connection (WebSocket) counts as busy until it closes (the primary's shutdown
 *   timeout bounds it), so neither is cut by the new-connection grace.
 * - A plain TCP server (no HTTP on it: a stream proxy) has no requests to wait for: each of
 *   its connections counts as busy until it closes, as an nginx stream session does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Server, type Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import { Server as HttpServer } from 'node:http'

export const NEW_CONNECTION_GRACE_MS = 1000
/** idle keep-alive connections of a server without its own keepAliveTimeout end after this */
export const IDLE_GRACE_MS = 5000

interface ConnState { requests: number; busy: number }

export class ServerDrain {
  readonly #conns = new Map<Socket, ConnState>()
  #closing = false

  constructor(readonly server: Server) {
    const plainTcp = !(server instanceof HttpServer) && !(server instanceof TlsServer)
    server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
      this.#conns.set(socket, plainTcp ? { requests: 1, busy: 1 } : { requests: 0, busy: 0 })
      socket.once('close', () => this.#conns.delete(socket))
    })
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res))
    server.prependListener('upgrade', (req: IncomingMessage) => {
      const st = this.#conns.get(req.socket)
      if (st) {
        st.requests++
        st.busy++
      }
    })
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket
    const st = this.#conns.get(socket)
    if (!st) return
    st.requests++
    st.busy++
    if (this.#closing) res.shouldKeepAlive = false
    res.once('close', () => {
      st.busy--
      if (!this.#closing || st.busy > 0 || socket.destroyed) return
      // a response that went out with keep-alive invites the next request, maybe sent
      // already: wait for it (answered with `Connection: close`) instead of ending under it
      if (res.shouldKeepAlive) this.#endWhenIdle(socket, st)
      else socket.end()
    })
  }

  /** Ends an idle keep-alive connection once the server's keep-alive timeout has passed. */
  #endWhenIdle(socket: Socket, st: ConnState): void {
    const keepAlive = (this.server as { keepAliveTimeout?: unknown }).keepAliveTimeout
    const idleMs = typeof keepAlive === 'number' && keepAlive > 0 ? keepAlive + 1000 : IDLE_GRACE_MS
    const seen = st.requests
    setTimeout(() => {
      if (st.busy === 0 && st.requests === seen && !socket.destroyed) socket.end()
    }, idleMs).unref()
  }

  /** Stops accepting and resolves when every connection is gone. */
  close(): Promise<void> {
    this.#closing = true
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve()
      // net's close, not http's: http's would reset connections whose request is on its way.
      Server.prototype.close.call(this.server, () => resolve())
      for (const [socket, st] of this.#conns) {
        if (st.busy > 0) continue
        if (st.requests > 0) this.#endWhenIdle(socket, st)
        else setTimeout(() => st.requests === 0 && socket.destroy(), NEW_CONNECTION_GRACE_MS).unref()
      }
    })
  }
}
