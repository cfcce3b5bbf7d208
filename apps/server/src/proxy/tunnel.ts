/**
 * One Upgrade attempt (WebSocket and any other `Upgrade:` protocol) and the tunnel after it.
 *
 * Invariants:
 * - An attempt connects to the peer (connect timeout), writes the request head (and the bytes
 *   the client sent after it), then reads the peer's response head (read timeout). It
 *   resolves with the head once it is complete and rejects on any failure before that, so
 *   readyOk retries a connect failure on the next peer and passive accounting sees it.
 * - Nothing is written to the client before the attempt is accepted; a rejected attempt's
 *   socket is destroyed.
 * - After `101 Switching Protocols` the two sockets are spliced with pipe(): backpressure both
 *   ways (a full destination pauses the source), a FIN is passed on as a FIN, an error or a
 *   close on either side destroys the other, and `idleMs` without a byte either way closes both.
 * - A response other than 101 is relayed as the peer sent it and the connection closed.
 */
import { connect as netConnect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { ProxyError } from './errors.js'

/** Larger response heads are refused (Node's own default header limit). */
const MAX_HEAD = 16 * 1024

export interface PeerTarget {
  readonly host: string
  readonly port: number
  /** TLS options for an https upstream, undefined for plain TCP */
  readonly tls: ConnectionOptions | undefined
}

export interface PeerHead {
  readonly status: number
  /** the raw head bytes including the final CRLFCRLF */
  readonly head: Buffer
  /** bytes after the head (the first tunnelled bytes) */
  readonly rest: Buffer
  readonly socket: Socket
}

class TunnelError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** Opens a TCP (or TLS) connection to the peer, failing with a connect-timeout code after `connectMs`. */
export function connectPeer(peer: PeerTarget, connectMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const host = peer.host
    const sock = peer.tls ? tlsConnect({ ...peer.tls, host, port: peer.port }) : netConnect({ host, port: peer.port })
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new TunnelError('UND_ERR_CONNECT_TIMEOUT', 'connect timeout'))
    }, connectMs)
    const fail = (err: Error): void => {
      clearTimeout(timer)
      sock.destroy()
      reject(err)
    }
    sock.once('error', fail)
    sock.once(peer.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer)
      sock.off('error', fail)
      resolve(sock)
    })
  })
}

/** Writes `head` (+ `early` bytes) and reads the peer's response head within `readMs`. */
export async function exchangeHead(peer: PeerTarget, head: string, early: Buffer, connectMs: number, readMs: number, signal: { gone: boolean }): Promise<PeerHead> {
  const sock = await connectPeer(peer, connectMs)
  if (signal.gone) {
    sock.destroy()
    throw new ProxyError('PRX_ERR_CLIENT_ABORTED', 'client closed the connection')
  }
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0)
    const timer = setTimeout(() => fail(new TunnelError('UND_ERR_HEADERS_TIMEOUT', 'read timeout')), readMs)
    const done = (): void => {
      clearTimeout(timer)
      sock.off('data', onData)
      sock.off('error', fail)
      sock.off('end', onEnd)
    }
    const fail = (err: Error): void => {
      done()
      sock.destroy()
      reject(err)
    }
    const onEnd = (): void => fail(new TunnelError('UND_ERR_SOCKET', 'peer closed before a response'))
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) {
        if (buf.length > MAX_HEAD) fail(new TunnelError('UND_ERR_HEADERS_OVERFLOW', 'response head too large'))
        return
      }
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, Math.min(end, 64)))
      if (!m) return fail(new TunnelError('UND_ERR_INVALID_RESPONSE', 'invalid response status line'))
      done()
      sock.pause()
      resolve({ status: Number(m[1]), head: buf.subarray(0, end + 4), rest: buf.subarray(end + 4), socket: sock })
    }
    sock.on('data', onData)
    sock.on('error', fail)
    sock.on('end', onEnd)
    sock.write(head)
    if (early.length > 0) sock.write(early)
  })
}

/** Splices client and peer (see the module invariants). */
export function splice(client: Duplex & { setTimeout?: (ms: number, cb?: () => void) => unknown }, peer: Socket, idleMs: number): void {
  let closed = false
  const closeBoth = (): void => {
    if (closed) return
    closed = true
    client.destroy()
    peer.destroy()
  }
  // a socket's timer is re-armed by its reads and writes: a byte either way re-arms both
  client.setTimeout?.(idleMs, closeBoth)
  peer.setTimeout(idleMs, closeBoth)
  client.on('error', closeBoth)
  peer.on('error', closeBoth)
  client.on('close', closeBoth)
  peer.on('close', closeBoth)
  peer.pipe(client)
  client.pipe(peer)
  peer.resume()
}
