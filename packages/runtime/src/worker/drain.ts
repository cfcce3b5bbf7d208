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
 * - A keep-alive connection between requests is ended at once.
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
      if (this.#closing && st.busy === 0 && !socket.destroyed) socket.end()
    })
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
        if (st.requests > 0) socket.end()
        else setTimeout(() => st.requests === 0 && socket.destroy(), NEW_CONNECTION_GRACE_MS).unref()
      }
    })
  }
}
