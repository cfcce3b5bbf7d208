/**
 * Before forking, the primary makes sure the proxy and admin addresses can be bound: a port
 * already in use is one `checkups: cannot listen on HOST:PORT: address already in use` line
 * and exit 1 at once, instead of after every worker started and failed.
 *
 * Invariant: a probe only binds and closes (nothing is accepted); the workers' own listen
 * stays the authority (a port taken between the probe and the fork is reported by the
 * runtime as `cannot listen` and also ends the start with exit 1).
 */
import { createServer } from 'node:net'
import { ListenError } from './errors.js'
import { formatListen, type ListenAddress } from './listen.js'

const REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available',
}

function probe(addr: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', (err: NodeJS.ErrnoException) => {
      const reason = (err.code && REASONS[err.code]) ?? err.message
      reject(new ListenError(`cannot listen on ${formatListen(addr)}: ${reason}`, { cause: err }))
    })
    srv.listen({ host: addr.host, port: addr.port, exclusive: true }, () => srv.close(() => resolve()))
  })
}

/** Binds and releases each address in turn; rejects with the first that cannot be bound. */
export async function probeListeners(addrs: readonly ListenAddress[]): Promise<void> {
  for (const a of addrs) if (a.port !== 0) await probe(a)
}
