/**
 * Requests in flight per peer, shared by every worker (what `drain` waits for).
 *
 * Invariants
 * - Each worker id counts its own attempts in the state zone under
 *   `checkups:inflight:<worker-id>:<skey>:<host>:<port>`: +1 when a readyOk callback starts,
 *   -1 when it returns or settles. The total of a peer is the sum over worker ids.
 * - A worker process starting under an id removes that id's counters first: a process that
 *   died mid-request leaves no phantom request behind once its id is respawned.
 * - Counting never fails a request: a full zone only loses the count (never negative).
 */
import { KEY } from '../keys.js'
import type { Dict } from '../shared.js'

export class InflightCounter {
  constructor(
    private readonly state: Dict,
    private readonly workerId: number,
    private readonly workerCount: number,
  ) {}

  /** Runs `fn` counted as one request in flight to host:port. */
  track<R>(skey: string, host: string, port: number, fn: () => R): R {
    const key = KEY.inflight(this.workerId, skey, host, port)
    this.state.incr(key, 1, 0)
    let sync = true
    try {
      const r = fn()
      if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
        sync = false
        return (r as unknown as Promise<unknown>).finally(() => this.leave(key)) as R
      }
      return r
    } finally {
      if (sync) this.leave(key)
    }
  }

  /** Requests in flight to host:port over all workers. */
  total(skey: string, host: string, port: number): number {
    let n = 0
    for (let id = 0; id < this.workerCount; id++) {
      const v = this.state.get(KEY.inflight(id, skey, host, port))
      if (typeof v === 'number' && v > 0) n += v
    }
    return n
  }

  /** At worker start: forget the counters a previous process of this id left. */
  reset(): void {
    const prefix = `checkups:inflight:${this.workerId}:`
    for (const key of this.state.getKeys(0)) if (key.startsWith(prefix)) this.state.delete(key)
  }

  private leave(key: string): void {
    const r = this.state.incr(key, -1, 1)
    if (r.ok && r.value <= 0) this.state.delete(key)
  }
}
