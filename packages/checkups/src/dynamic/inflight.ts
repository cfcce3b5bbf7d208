/**
 * Requests in flight per peer, as far as `drain` needs them: whether any worker still has one
 * in flight to a drained server.
 *
 * Invariants
 * - Each worker counts its readyOk attempts per peer in process memory (+1 when a callback
 *   starts, -1 when it returns or settles): the request path writes no shared memory.
 * - For the servers its view sees flagged `drain`, a worker publishes its count in the state
 *   zone (`checkups:inflight:<worker-id>:<skey>:<host>:<port>`) at every change. Each time its
 *   view takes in a config change it first publishes the counts of the drained servers, then
 *   the config version it now runs (`checkups:inflight:<worker-id>:seen_config`). With
 *   `global.dns` the peers are the addresses of the upstream as served (a drained hostname's
 *   addresses are drained), published again when the addresses change.
 * - So a drained server is idle exactly when every worker id has seen a config version at
 *   least the current one and published 0 for it. A worker that has not caught up yet (an idle
 *   one until its next request or sync timer) keeps the server `draining`: conservative.
 * - A worker process starting under an id clears that id's keys first: a process that died
 *   mid-request leaves no phantom request behind once its id is respawned.
 */
import type { ResolvedServer, ResolvedUpstream } from '../config/types.js'
import { forEachServer } from '../config/walk.js'
import { KEY } from '../keys.js'
import type { Dict } from '../zone-types.js'

/** `served`: the upstream as served (global.dns: one server per address), else `ups` counts */
interface Counted { ups: ResolvedUpstream; served?: ResolvedUpstream }
interface ViewLike { current(): Iterable<[string, Counted]>; readonly shdConfigVersion: number }

interface PeerCount {
  key: string
  n: number
  shared: boolean
  /** settle handlers made once per peer (no closure per request) */
  ok(v: unknown): unknown
  fail(e: unknown): never
}

/**
 * The drained servers of a resolved upstream (or its DNS-expanded form, frozen too), computed once per object (a view's
 * upstream never changes; a config change brings a new object), so a config change costs a
 * lookup per upstream here, not a walk over every server of every upstream.
 */
const drainedCache = new WeakMap<ResolvedUpstream, readonly ResolvedServer[]>()
function drainedOf(ups: ResolvedUpstream): readonly ResolvedServer[] {
  let list = drainedCache.get(ups)
  if (list === undefined) {
    const found: ResolvedServer[] = []
    forEachServer(ups, (s) => { if (s.drain === true) found.push(s) })
    drainedCache.set(ups, (list = found))
  }
  return list
}

export class InflightCounter {
  private readonly peers = new Map<string, Map<number, Map<string, PeerCount>>>()

  constructor(
    private readonly state: Dict,
    private readonly workerId: number,
    private readonly workerCount: number,
  ) {}

  /** A worker's counter, its id's old keys cleared, and the view hook that publishes (see above). */
  static start(state: Dict, worker: { id: number; count: number }): { counter: InflightCounter; onConfig: (v: ViewLike) => void } {
    const counter = new InflightCounter(state, worker.id, worker.count)
    counter.reset()
    return { counter, onConfig: (v) => counter.publish(v.current(), v.shdConfigVersion) }
  }

  /** `cb` (a readyOk callback) with each of its attempts counted. */
  counted<A extends unknown[], R>(skey: string, cb: (host: string, port: number, ...rest: A) => R): (host: string, port: number, ...rest: A) => R {
    return (host, port, ...rest) => this.track(skey, host, port, () => cb(host, port, ...rest))
  }

  /** Runs `fn` counted as one request in flight to host:port. */
  track<R>(skey: string, host: string, port: number, fn: () => R): R {
    const c = this.peer(skey, host, port)
    c.n++
    if (c.shared) this.state.set(c.key, c.n)
    let sync = true
    try {
      const r = fn()
      if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') {
        sync = false
        return (r as unknown as Promise<unknown>).then(c.ok, c.fail) as R
      }
      return r
    } finally {
      if (sync) this.leave(c)
    }
  }

  /** After this worker's view took in config `version`: publish drained peers, then the version. */
  publish(upstreams: Iterable<[string, Counted]>, version: number): void {
    const drained = new Set<PeerCount>()
    for (const [skey, { ups, served }] of upstreams) {
      for (const s of drainedOf(served ?? ups)) {
        const c = this.peer(skey, s.host, s.port)
        drained.add(c)
        c.shared = true
        this.state.set(c.key, c.n)
      }
    }
    for (const byPort of this.peers.values()) {
      for (const byHost of byPort.values()) for (const c of byHost.values()) if (c.shared && !drained.has(c)) c.shared = false
    }
    this.state.set(KEY.seenConfig(this.workerId), version)
  }

  /** Whether some worker may still have a request in flight to host:port (drained at `version`). */
  busy(skey: string, host: string, port: number, version: number): boolean {
    for (let id = 0; id < this.workerCount; id++) {
      const seen = this.state.get(KEY.seenConfig(id))
      if (typeof seen !== 'number' || seen < version) return true
      const v = this.state.get(KEY.inflight(id, skey, host, port))
      if (typeof v === 'number' && v > 0) return true
    }
    return false
  }

  /** At worker start: forget the keys a previous process of this id left. */
  reset(): void {
    const prefix = `checkups:inflight:${this.workerId}:`
    for (const key of this.state.getKeys(0)) if (key.startsWith(prefix)) this.state.delete(key)
  }

  private leave(c: PeerCount): void {
    c.n--
    if (c.shared) this.state.set(c.key, c.n)
  }

  private peer(skey: string, host: string, port: number): PeerCount {
    let byPort = this.peers.get(skey)
    if (!byPort) this.peers.set(skey, (byPort = new Map()))
    let byHost = byPort.get(port)
    if (!byHost) byPort.set(port, (byHost = new Map()))
    let c = byHost.get(host)
    if (c === undefined) {
      const pc: PeerCount = {
        key: KEY.inflight(this.workerId, skey, host, port), n: 0, shared: false,
        ok: (v) => (this.leave(pc), v),
        fail: (e) => {
          this.leave(pc)
          throw e
        },
      }
      byHost.set(host, (c = pc))
    }
    return c
  }
}
