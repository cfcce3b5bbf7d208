/**
 * Guard for connections in flight to a worker that dies.
 *
 * node:cluster's round-robin primary accepts each connection, sends it to a worker
 * (`NODE_CLUSTER` `newconn`) and closes its own copy only when the worker acknowledges. A
 * worker killed before acknowledging never does: the connection stays open in the primary
 * forever and its client hangs. This guard remembers, per worker, the connections sent and
 * not yet acknowledged, and closes them when the worker exits, so the client sees the
 * connection end at once — as with nginx, where the kernel resets a dead worker's
 * connections. (Graceful exits never lose one: see the exit handshake in ../ipc.ts.)
 *
 * It relies on two observable facts of node:cluster's primary: it sends handles with
 * `worker.process.send(message, handle)` and receives acks as `internalMessage` events.
 */
import type { Worker } from 'node:cluster'

interface ClusterMessage { cmd?: unknown; act?: unknown; seq?: unknown; ack?: unknown }
interface Closable { close(): void }
type Send = (message: unknown, handle?: unknown, ...rest: unknown[]) => boolean

export interface HandoffGuard {
  /** closes every connection handed to the worker and not acknowledged; returns how many */
  closePending(): number
}

export function guardHandoffs(worker: Worker): HandoffGuard {
  const proc = worker.process as unknown as { send: Send; on(ev: 'internalMessage', fn: (m: unknown) => void): void }
  const pending = new Map<number, Closable>()
  const send = proc.send.bind(proc)
  proc.send = (message: unknown, handle?: unknown, ...rest: unknown[]): boolean => {
    const m = message as ClusterMessage | null
    if (m?.cmd === 'NODE_CLUSTER' && m.act === 'newconn' && typeof m.seq === 'number' && isClosable(handle)) {
      pending.set(m.seq, handle)
    }
    return send(message, handle, ...rest)
  }
  proc.on('internalMessage', (message: unknown) => {
    const m = message as ClusterMessage | null
    if (m?.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number') pending.delete(m.ack)
  })
  return {
    closePending() {
      let n = 0
      for (const h of pending.values()) {
        try {
          h.close()
          n++
        } catch {
          // already closed
        }
      }
      pending.clear()
      return n
    },
  }
}

function isClosable(h: unknown): h is Closable {
  return typeof h === 'object' && h !== null && typeof (h as Closable).close === 'function'
}
