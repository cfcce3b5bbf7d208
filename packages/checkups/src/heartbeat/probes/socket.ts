/**
 * The TCP exchange behind the `general` and `http` probes: connect, optionally send a request
 * and read the first line, all under ONE deadline timer per probe (a round may open thousands
 * of these, so each costs one socket, one timer, a few listeners). Error messages follow
 * nginx's cosocket wording where the original would have shown one (`connection refused`,
 * `timeout`, `closed`), so status pages read the same.
 *
 * Invariant: the socket is destroyed before the returned promise settles (no keep-alive: a
 * probe never holds a file descriptor between rounds).
 */
import net from 'node:net'
import tls from 'node:tls'

/** Maps a socket error to the message stored in the record. */
export function socketErrorMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  switch (e?.code) {
    case 'ECONNREFUSED': return 'connection refused'
    case 'ECONNRESET': return 'connection reset by peer'
    case 'ETIMEDOUT': return 'timeout'
    case 'EHOSTUNREACH': return 'no route to host'
    case 'ENETUNREACH': return 'network is unreachable'
    default: return e instanceof Error ? e.message : String(err)
  }
}

/** Thrown for a deadline; its message is the record's `msg`. */
export class ProbeTimeout extends Error {
  constructor() {
    super('timeout')
    this.name = 'ProbeTimeout'
  }
}

const MAX_LINE = 8192
/**
 * One read buffer for every plain probe socket (`onread`): a read fills it and its callback
 * runs synchronously before the next read on this thread, and the callback copies out what it
 * keeps, so sharing it is safe and a round allocates no Buffer per answer.
 */
const READ_BUF = Buffer.allocUnsafe(16 * 1024)
const CR = 13
const LF = 10

/** Called once a probe no longer needs a work slot: connected, its request (if any) sent. */
export type OnConnected = () => void

/**
 * Connects to host:port; with `request`, writes it and resolves with the first line of the
 * answer (CRLF excluded); without, resolves with null once connected. Rejects with an Error
 * whose message is the record's msg. With `secure`, the connection is TLS and "connected"
 * means the handshake (certificate checks included) succeeded.
 *
 * The plain path is the cheap one a round runs thousands of: the request is queued before
 * the connect completes (sent with the SYN-ACK's ACK), answers are read through `onread`
 * into READ_BUF and scanned as bytes for the first CRLF — no stream `data` events, no
 * per-chunk Buffers or strings unless the status line is split over several reads.
 */
export function exchange(host: string, port: number, timeoutMs: number, request: string | null,
  secure?: tls.ConnectionOptions, onConnected?: OnConnected): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let partial = ''
    let done = false
    const finish = (err: Error | null, line: string | null = null): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      if (err) reject(err)
      else resolve(line)
    }
    /** Scans one read for the CRLF ending the status line (a bare LF does not end it). */
    const scan = (buf: Buffer, start: number, end: number): void => {
      for (let i = start; i < end; i++) {
        if (buf[i] !== LF) continue
        if (i > start ? buf[i - 1] !== CR : !partial.endsWith('\r')) continue
        const line = partial + buf.toString('latin1', start, i)
        return finish(null, line.slice(0, -1))
      }
      partial += buf.toString('latin1', start, end)
      if (partial.length > MAX_LINE) finish(new Error('status line too long'))
    }
    const sock = secure
      ? tls.connect({ ...secure, host, port })
      : net.connect({ host, port, onread: { buffer: READ_BUF, callback: (n) => { scan(READ_BUF, 0, n); return !done } } })
    const timer = setTimeout(() => finish(new ProbeTimeout()), timeoutMs)
    sock.on('error', (e) => finish(new Error(socketErrorMessage(e))))
    sock.on('close', () => finish(new Error('closed')))
    if (secure) sock.on('data', (chunk: Buffer) => scan(chunk, 0, chunk.length))
    if (request !== null && !secure) sock.write(request, 'latin1')
    sock.once(secure ? 'secureConnect' : 'connect', () => {
      onConnected?.()
      if (request === null) return finish(null)
      if (secure) sock.write(request, 'latin1')
    })
  })
}
