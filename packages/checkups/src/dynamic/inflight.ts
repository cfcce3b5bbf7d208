/**
 * Which workers have a request in flight to a peer (what `drain` waits for).
 *
 * Invariants
 * - Each worker counts its readyOk attempts per peer in process memory: +1 when a callback
 *   starts, -1 when it returns or settles.
 * - It publishes only the transitions: when its count for a peer goes 0 → 1 it sets
 *   `checkups:inflight:<worker-id>:<skey>:<host>:<port>` = 1 in the state zone, when it goes
 *   back to 0 it sets 0. So a busy peer costs no shared-memory write per request, and a peer
 *   is idle exactly when every worker's flag is 0 — whether or not a worker has seen the
 *   `drain` flag yet.
 * - A worker process starting under an id clears that id's flags first: a process that died
 *   mid-request leaves no phantom request behind once its id is respawned.
 * - Counting never fails a request: a full zone only loses the flag.
 */
import { KEY } from '../keys.js'
import type { Dict } from '../shared.js'

interface PeerCount { key: string; n: number }

export class InflightCounter {
  private readonly peers = new Map<string, Map<number, Map<string, PeerCount>>>()

  constructor(
    private readonly state: Dict,
    private readonly workerId: number,
    private readonly workerCount: number,
  ) {}

  /** Runs `fn` counted as one request in flight to host:port. */
  track<R>(skey: string, host: string, port: number, fn: () => R): R {
    const c = this.peer(skey, host, port)
    if (c.n++ === 0) this.state.set(c.key, 1)
    let sync = true
    try {
      const r = fn()
      if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
        sync = false
        return (r as unknown as Promise<unknown>).finally(() => this.leave(c)) as R
      }
      return r
    } finally {
      if (sync) this.leave(c)
    }
  }

  /** How many workers have a request in flight to host:port. */
  busyWorkers(skey: string, host: string, port: number): number {
    let n = 0
    for (let id = 0; id < this.workerCount; id++) {
      const v = this.state.get(KEY.inflight(id, skey, host, port))
      if (typeof v === 'number' && v > 0) n++
    }
    return n
  }

  /** At worker start: forget the flags a previous process of this id left. */
  reset(): void {
    const prefix = `checkups:inflight:${this.workerId}:`
    for (const key of this.state.getKeys(0)) if (key.startsWith(prefix)) this.state.delete(key)
  }

  private leave(c: PeerCount): void {
    if (--c.n === 0) this.state.set(c.key, 0)
  }

  private peer(skey: string, host: string, port: number): PeerCount {
    let byPort = this.peers.get(skey)
    if (!byPort) this.peers.set(skey, (byPort = new Map()))
    let byHost = byPort.get(port)
    if (!byHost) byPort.set(port, (byHost = new Map()))
    let c = byHost.get(host)
    if (c === undefined) byHost.set(host, (c = { key: KEY.inflight(this.workerId, skey, host, port), n: 0 }))
    return c
  }
}
