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
 * Connects to host:port; with `request`, writes it and resolves with the first line of the
 * answer (CRLF excluded); without, resolves with null once connected. Rejects with an Error
 * whose message is the record's msg. With `secure`, the connection is TLS and "connected"
 * means the handshake (certificate checks included) succeeded.
 */
export function exchange(host: string, port: number, timeoutMs: number, request: string | null, secure?: tls.ConnectionOptions): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const sock = secure ? tls.connect({ ...secure, host, port }) : net.connect({ host, port })
    let buf = ''
    let done = false
    const finish = (err: Error | null, line: string | null = null): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      if (err) reject(err)
      else resolve(line)
    }
    const timer = setTimeout(() => finish(new ProbeTimeout()), timeoutMs)
    sock.on('error', (e) => finish(new Error(socketErrorMessage(e))))
    sock.on('close', () => finish(new Error('closed')))
    sock.on(secure ? 'secureConnect' : 'connect', () => {
      if (request === null) return finish(null)
      sock.setNoDelay(true)
      sock.write(request, 'latin1')
    })
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1')
      const i = buf.indexOf('\r\n')
      if (i >= 0) finish(null, buf.slice(0, i))
      else if (buf.length > MAX_LINE) finish(new Error('status line too long'))
    })
  })
}
