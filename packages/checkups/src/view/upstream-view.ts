/**
 * A worker's ready-to-select copy of ONE upstream: its levels, a balancer per level and the
 * cached health of every peer.
 *
 * Invariants
 * - Built from one resolved upstream; replaced as a whole when that upstream's stored bytes
 *   change (which resets its balancer state), never otherwise.
 * - `avail[i]` of a level = heartbeat status not err (ignored when the heartbeat is disabled
 *   for the skey) AND passive err window not running at the time of the last `computeAvail`.
 *   `nextExpiry` is the earliest end of a running passive window (Infinity if none): a select
 *   at or after it recomputes `avail` (windows end by time, without a version bump).
 * - A peer's `result` is a frozen `{ host, port }` handed out by selectPeer (no allocation).
 */
import { type Balancer, balancerFor } from '../balancer/index.js'
import type { ResolvedLevel, ResolvedServer, ResolvedUpstream } from '../config/types.js'
import { levelEntries } from '../config/walk.js'
import { KEY } from '../keys.js'
import { errUntil, readPassive } from '../passive/accounting.js'
import { type HeartbeatRecord, type PeerStatusCode, STATUS_ERR, STATUS_OK, decodeRecord } from '../records.js'
import { type Dict, asBytes } from '../shared.js'

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
}

export interface LevelView {
  readonly key: string | number
  readonly level: ResolvedLevel
  readonly peers: readonly PeerState[]
  readonly balancer: Balancer
  readonly avail: Uint8Array
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

  constructor(
    readonly skey: string,
    readonly ups: ResolvedUpstream,
    readonly hbEnabled: boolean,
  ) {
    const make = balancerFor(ups.mode)
    this.levels = levelEntries(ups).map(([key, level]) => {
      const peers = level.servers.map((s) => this.peerState(s))
      const balancer = make(level.servers.map((s) => ({ id: `${s.host}:${s.port}`, weight: s.weight })))
      return { key, level, peers, balancer, avail: new Uint8Array(peers.length).fill(1) }
    })
    this.byKey = new Map(this.levels.map((l) => [l.key, l]))
    this.passive = this.peers.some((p) => p.server.max_fails > 0)
    this.timeouts = Object.freeze({
      connect: ups.timeout * 1000, send: (ups.send_timeout ?? ups.timeout) * 1000, read: (ups.read_timeout ?? ups.timeout) * 1000,
    })
  }

  private peerState(s: ResolvedServer): PeerState {
    const p: PeerState = {
      server: s,
      result: Object.freeze({ host: s.host, port: s.port }),
      hbKey: KEY.peerStatus(this.skey, s.host, s.port),
      hb: STATUS_OK,
      errUntil: 0,
      knownSince: -Infinity,
    }
    this.peers.push(p)
    return p
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
        avail[i] = p.hb !== STATUS_ERR && !passiveErr ? 1 : 0
      }
    }
    this.nextExpiry = next
  }
}
