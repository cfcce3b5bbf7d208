/**
 * A worker's ready-to-select copy of ONE upstream: its levels, a balancer per level and the
 * cached health of every peer.
 *
 * Invariants
 * - Built from one resolved upstream; replaced as a whole when that upstream's stored bytes
 *   change (which resets its balancer state), never otherwise.
 * - `avail[i]` of a level = heartbeat status not err (ignored when the heartbeat is disabled
 *   for the skey) AND passive err window not running at the time of the last `computeAvail`.
 *   A server flagged `down` or `drain` (admin per-server operations) is never available.
 *   `nextExpiry` is the earliest end of a running passive window (Infinity if none): a select
 *   at or after it recomputes `avail` (windows end by time, without a version bump).
 * - With `slow_start`, `computeAvail` also scales each peer's balancer weight by its ramp
 *   (balancer/slow-start.ts) and brings `nextExpiry` forward to the ramp's next step.
 * - With `outlier_detection`, a peer ejected (shared until-time) is unavailable until then;
 *   `nextExpiry` includes the ejection's end.
 * - With `panic_threshold`, a level where fewer than that percentage of peers are usable by
 *   health gets every peer marked available (Envoy's panic mode: spread over all rather than
 *   overload the few left).
 * - A round-robin level of more than EDF_MIN_PEERS servers gets the heap scheduler
 *   (O(log n) a pick) instead of the smooth round-robin that visits every peer on each pick;
 *   `computeAvail` tells it each time it rewrote the level's `avail`.
 * - A peer's `result` is a frozen `{ host, port }` handed out by selectPeer (no allocation).
 * - `ups` is the upstream as configured (what getUpstream and writers see); the peers come
 *   from `served`, which differs only when `global.dns` expanded hostnames (dns/expand.ts;
 *   `dnsFingerprint` then says which addresses it was built from). Without names they are
 *   the same object.
 */
import { type Balancer, type LoadBoard, type PeerLoad, balancerFor, isHashMode } from '../balancer/index.js'
import { ConnLimit } from '../balancer/max-conns.js'
import { EDF_MIN_PEERS, EdfRoundRobin, createEdfRoundRobin } from '../balancer/wrr-edf.js'
import { RetryBudget } from '../balancer/retry-budget.js'
import { OutlierDetector } from '../balancer/outlier.js'
import { nextStep, rampFactor } from '../balancer/slow-start.js'
import type { ResolvedLevel, ResolvedServer, ResolvedUpstream } from '../config/types.js'
import { levelEntries } from '../config/walk.js'
import { KEY } from '../keys.js'
import { errUntil, readPassive } from '../passive/accounting.js'
import { type HeartbeatRecord, type PeerStatusCode, STATUS_ERR, STATUS_OK, decodeRecord } from '../records.js'
import { type Dict, asBytes } from '../zone-types.js'
import type { Served } from '../dns/expand.js'

/** An upstream's timeouts in ms: `timeout` for connect, send/read default to it. */
export interface Timeouts {
  readonly connect: number
  readonly send: number
  readonly read: number
}

export interface PeerResult {
  readonly host: string
  readonly port: number
}

export interface PeerState {
  readonly server: ResolvedServer
  readonly result: PeerResult
  readonly hbKey: string
  /** cached heartbeat status (STATUS_OK when no record or heartbeat disabled) */
  hb: PeerStatusCode
  /** end of the cached passive err window (ms), 0 = none */
  errUntil: number
  /** `since` of a passive record known to exist (ms), -Infinity = unknown */
  knownSince: number
  /** shared in-flight / latency cost (load-aware modes and max_conns only) */
  readonly load: PeerLoad | undefined
  /** slow start: when the heartbeat record last flipped back to ok (ms, 0 = never down or not ok) */
  hbUpSince: number
  /** slow start: when the last passive err window ended (ms, 0 = none seen) */
  passiveUpSince: number
  /** slow start: when a config change added the peer to this worker's view (ms, 0 = at start) */
  addedAt: number
}

export interface LevelView {
  readonly key: string | number
  readonly level: ResolvedLevel
  readonly peers: readonly PeerState[]
  readonly balancer: Balancer
  readonly avail: Uint8Array
  /** max_conns of the level's servers, when some has one */
  readonly limit: ConnLimit | undefined
}

export class UpstreamView {
  readonly levels: readonly LevelView[]
  private readonly byKey: Map<string | number, LevelView>
  private readonly peers: PeerState[] = []
  /** true when some server has max_fails > 0 */
  readonly passive: boolean
  /** the upstream's timeouts (ms), handed to every attempt's context */
  readonly timeouts: Timeouts
  nextExpiry = Infinity
  /** `slow_start` in ms (0 = off) */
  private readonly slowMs: number
  /** `panic_threshold` in percent (0 = off) */
  private readonly panicPct: number
  /** the mode picks by a request key (consistent hash) */
  readonly hashed: boolean
  /** `retry_budget`, when configured (and the statistics zone is there) */
  readonly retryBudget: RetryBudget | undefined
  /** `outlier_detection`, when configured (and the statistics zone is there) */
  readonly outliers: OutlierDetector | undefined
  /** the upstream the peers come from: `ups` with hostnames expanded (global.dns), else `ups` */
  readonly served: ResolvedUpstream
  /** the published addresses `served` was built from (undefined: no hostnames) */
  readonly dnsFingerprint: string | undefined

  constructor(
    readonly skey: string,
    readonly ups: ResolvedUpstream,
    readonly hbEnabled: boolean,
    board?: LoadBoard,
    /** the view this one replaces, and the time (slow start of added peers) */
    prev?: { view: UpstreamView | undefined; now: number },
    /** `ups` with its hostnames expanded (dns/expand.ts), when it has some */
    dns?: Served,
  ) {
    const make = balancerFor(ups.mode)
    this.hashed = isHashMode(ups.mode)
    this.served = dns?.ups ?? ups
    this.dnsFingerprint = dns?.fingerprint
    const loaded = board !== undefined && (ups.mode === 'least_conn' || ups.mode === 'p2c' || hasMaxConns(ups) || ups.retry_budget !== undefined || ups.outlier_detection !== undefined)
    this.levels = levelEntries(this.served).map(([key, level]) => {
      const peers = level.servers.map((s) => this.peerState(s, loaded ? board.peer(skey, s.host, s.port) : undefined))
      const big = ups.mode === 'wrr' && peers.length > EDF_MIN_PEERS
      const balancer = (big ? createEdfRoundRobin : make)(peers.map((p) => ({ id: `${p.server.host}:${p.server.port}`, weight: p.server.weight, load: p.load })))
      return { key, level, peers, balancer, avail: new Uint8Array(peers.length).fill(1), limit: ConnLimit.of(peers) }
    })
    this.byKey = new Map(this.levels.map((l) => [l.key, l]))
    this.slowMs = (ups.slow_start ?? 0) * 1000
    this.panicPct = ups.panic_threshold ?? 0
    const old = prev?.view
    if (old !== undefined && this.slowMs > 0) {
      const had = new Map(old.peers.map((p) => [`${p.server.host}:${p.server.port}`, p.addedAt]))
      for (const p of this.peers) p.addedAt = had.get(`${p.server.host}:${p.server.port}`) ?? prev!.now
    }
    const rb = ups.retry_budget
    const loads = this.peers.flatMap((p) => (p.load === undefined ? [] : [p.load]))
    this.retryBudget = rb && board ? new RetryBudget(board.zone, skey, loads, rb.ratio, rb.min_concurrency) : undefined
    const od = ups.outlier_detection
    this.outliers = od && board ? new OutlierDetector(loads, od, board.now, board.onEject) : undefined
    this.passive = this.peers.some((p) => p.server.max_fails > 0)
    this.timeouts = Object.freeze({
      connect: ups.timeout * 1000, send: (ups.send_timeout ?? ups.timeout) * 1000, read: (ups.read_timeout ?? ups.timeout) * 1000,
    })
  }

  private peerState(s: ResolvedServer, load: PeerLoad | undefined): PeerState {
    const p: PeerState = {
      load,
      server: s,
      result: Object.freeze({ host: s.host, port: s.port }),
      hbKey: KEY.peerStatus(this.skey, s.host, s.port),
      hb: STATUS_OK,
      errUntil: 0,
      knownSince: -Infinity,
      hbUpSince: 0,
      passiveUpSince: 0,
      addedAt: 0,
    }
    this.peers.push(p)
    return p
  }

  /**
   * The slow-start ramp of a peer at `now` (ms): its weight factor (0.1–1 of its configured
   * weight) and when the ramp ends (ms); undefined when slow_start is off or no ramp runs.
   */
  ramp(host: string, port: number, now: number): { factor: number; until: number } | undefined {
    if (this.slowMs <= 0) return undefined
    const p = this.peers.find((q) => q.server.host === host && q.server.port === port)
    if (p === undefined) return undefined
    const start = Math.max(p.hbUpSince, p.passiveUpSince, p.addedAt)
    const factor = rampFactor(now, start, this.slowMs)
    return factor < 1 ? { factor, until: start + this.slowMs } : undefined
  }

  level(key: string | number): LevelView | undefined {
    return this.byKey.get(key)
  }

  /** Re-reads the heartbeat records (when the heartbeat version moved). */
  refreshHeartbeat(state: Dict): void {
    for (const p of this.peers) {
      if (!this.hbEnabled) {
        p.hb = STATUS_OK
        continue
      }
      const rec = decodeRecord<HeartbeatRecord>(asBytes(state.get(p.hbKey)))
      p.hb = rec?.status ?? STATUS_OK
      // a record that started ok has no up_since: a peer never down is at full weight
      p.hbUpSince = rec?.status === STATUS_OK && typeof rec.up_since === 'number' ? rec.up_since * 1000 : 0
    }
  }

  /** Re-reads the passive records (when the passive version moved). */
  refreshPassive(state: Dict): void {
    if (!this.passive) return
    for (const p of this.peers) {
      if (p.server.max_fails === 0) continue
      const rec = readPassive(state, this.skey, p.server.host, p.server.port)
      p.errUntil = errUntil(rec, p.server)
      if (rec !== undefined && rec.since > p.knownSince) p.knownSince = rec.since
    }
  }

  /** Derives `avail` of every level at time `now` (ms). */
  computeAvail(now: number): void {
    let next = Infinity
    for (const l of this.levels) {
      const { peers, avail } = l
      for (let i = 0; i < peers.length; i++) {
        const p = peers[i]!
        const passiveErr = p.errUntil > now
        if (passiveErr && p.errUntil < next) next = p.errUntil
        const off = p.server.down === true || p.server.drain === true // operator flags
        avail[i] = p.hb !== STATUS_ERR && !passiveErr && !off ? 1 : 0
        if (this.outliers !== undefined) {
          const until = this.outliers.until(p.load)
          if (until > now) {
            avail[i] = 0
            if (until < next) next = until
          }
        }
        if (this.slowMs > 0) {
          if (!passiveErr && p.errUntil > p.passiveUpSince) p.passiveUpSince = p.errUntil
          const start = Math.max(p.hbUpSince, p.passiveUpSince, p.addedAt)
          l.balancer.scale?.(i, rampFactor(now, start, this.slowMs))
          next = Math.min(next, nextStep(now, start, this.slowMs))
        }
      }
      if (this.panicPct > 0) panic(avail, this.panicPct)
      if (l.balancer instanceof EdfRoundRobin) l.balancer.availChanged(avail)
    }
    this.nextExpiry = next
  }
}

function hasMaxConns(ups: ResolvedUpstream): boolean {
  return levelEntries(ups).some(([, l]) => l.servers.some((s) => s.max_conns !== undefined))
}

/** Panic mode: fewer than `pct` % of the level usable → all of it is (in place). */
function panic(avail: Uint8Array, pct: number): void {
  let up = 0
  for (let i = 0; i < avail.length; i++) up += avail[i]!
  if (avail.length > 0 && (up * 100) / avail.length < pct) avail.fill(1)
}
