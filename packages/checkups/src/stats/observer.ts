/**
 * The observer: per-peer statistics, the event ring and the process blocks of one statistics
 * zone, plus what turns signals into transitions (a log line, a counter, an event).
 *
 * Invariants
 * - A health transition is recorded once: heartbeat flips come from the single round writer,
 *   passive ones from the report that moved the err window (under the passive lock), admin
 *   ones from the admin write; `transition()` logs one line, counts it by cause and pushes
 *   one event.
 * - Health and downtime follow the heartbeat / admin status (ok, unstable, err); the passive
 *   state is its own word. Downtime = closed down periods + the open one.
 */
import type { ResolvedUpstream } from '../config/types.js'
import { forEachServer } from '../config/walk.js'
import { CheckupsError } from '../errors.js'
import type { PeerCheck } from '../heartbeat/contract.js'
import type { Logger } from '../zone-types.js'
import type { AttemptRecorder, AttemptTarget } from '../try/report.js'
import { EventRing, type ConfigEvent, type HealthCause } from './events.js'
import { C, CAUSES, H64, LATENCY_BOUNDS, OUTCOMES, ROUND_BOUNDS } from './layout.js'
import { ProcessBlocks } from './procs.js'
import { PeerRecorder } from './recorder.js'
import { StatsZone } from './zone.js'
import { peerStatsOf, type PeerStats } from './view.js'

/** One peer's result in a committed heartbeat round. */
export interface HeartbeatCheck extends Omit<PeerCheck, 'msg'> {
  msg?: string | null
}

export interface TransitionInput {
  skey: string
  host: string
  port: number
  from: string
  to: string
  cause: HealthCause
  msg?: string | null
  /** the passive state moved (default: when cause is `passive`), else the health status */
  passive?: boolean
}

const HEALTH_CODE: Readonly<Record<string, number>> = { ok: 1, err: 2, unstable: 3 }

export class Observer {
  readonly zone: StatsZone
  readonly recorder: PeerRecorder
  readonly events: EventRing
  readonly procs: ProcessBlocks

  constructor(buffer: SharedArrayBuffer | undefined, private readonly logger: Logger, private readonly now: () => number = Date.now) {
    this.zone = new StatsZone(buffer)
    this.recorder = new PeerRecorder(this.zone)
    this.events = new EventRing(this.zone)
    this.procs = new ProcessBlocks(this.zone)
  }

  /** false: nothing is recorded per attempt (events and heartbeat counts still run) */
  get recording(): boolean {
    return this.recorder.enabled
  }

  set recording(on: boolean) {
    this.recorder.enabled = on
  }

  /** The heartbeat's `onRound` hook. */
  readonly onRound = (checks: readonly HeartbeatCheck[], ms: number, done: boolean): void => this.heartbeatRound(checks, ms, done)

  /**
   * Counts a committed round's checks and records its flips as transitions; a large round
   * arrives in batches and counts as a round (with its duration) on the last one (`done`).
   */
  heartbeatRound(checks: readonly HeartbeatCheck[], ms: number, done = true): void {
    for (const c of checks) {
      const idx = this.zone.slot(c.skey, c.host, c.port)
      if (idx >= 0) {
        this.zone.add(idx, C.HB_CHECKS, 1n)
        if (c.failed) this.zone.add(idx, C.HB_FAILURES, 1n)
        if (this.zone.load(idx, C.HEALTH) === 0) this.zone.store(idx, C.HEALTH, HEALTH_CODE[c.from] ?? 0)
      }
      if (c.from !== c.to) this.transition({ skey: c.skey, host: c.host, port: c.port, from: c.from, to: c.to, cause: 'heartbeat', msg: c.msg ?? null })
    }
    if (!done) return
    const i64 = this.zone.i64
    Atomics.add(i64, H64.HB_ROUNDS, 1n)
    Atomics.add(i64, H64.HB_ROUND_SUM_US, BigInt(Math.max(0, Math.round(ms * 1000))))
    let b = 0
    while (b < ROUND_BOUNDS.length && ms / 1000 > ROUND_BOUNDS[b]!) b++
    Atomics.add(i64, H64.HB_ROUND_BUCKETS + b, 1n)
  }

  /** A peer's health changed: one log line, one count, one event. */
  transition(t: TransitionInput): void {
    const now = this.now()
    const idx = this.zone.slot(t.skey, t.host, t.port)
    if (idx >= 0) {
      const z = this.zone
      z.add(idx, C.TRANSITIONS + CAUSES.indexOf(t.cause), 1n)
      z.store(idx, C.LAST_CHANGE_MS, now)
      if (t.passive ?? t.cause === 'passive') z.store(idx, C.PASSIVE, t.to === 'err' ? 2 : 1)
      else this.#health(idx, t.to, now)
    }
    const peer = `${t.host}:${t.port}`
    this.logger.info({ upstream: t.skey, peer, from: t.from, to: t.to, cause: t.cause, msg: t.msg ?? null }, 'health transition')
    this.events.push({ type: 'transition', upstream: t.skey, peer, from: t.from, to: t.to, cause: t.cause, msg: t.msg ?? null }, now)
  }

  #health(idx: number, to: string, now: number): void {
    const z = this.zone
    z.store(idx, C.HEALTH, HEALTH_CODE[to] ?? 0)
    const since = z.load(idx, C.DOWN_SINCE_MS)
    if (to === 'err' && since === 0) z.store(idx, C.DOWN_SINCE_MS, now)
    if (to !== 'err' && since > 0) {
      z.add(idx, C.DOWNTIME_MS, BigInt(Math.max(0, Math.round(now - since))))
      z.store(idx, C.DOWN_SINCE_MS, 0)
    }
  }

  /** A config change (dynamic update/delete, reload) with the version it produced; returns the version. */
  configChanged(e: Omit<ConfigEvent, 'type'>): number {
    this.events.push({ type: 'config', ...e }, this.now())
    return e.version
  }

  /** The try funnel's hooks: the recorder's start and record, then the caller's own recorder. */
  funnelHooks(also?: AttemptRecorder): { start: (t: AttemptTarget) => void; record: AttemptRecorder } {
    const rec = this.recorder.record
    return { start: this.recorder.start, record: also ? (r) => { rec(r); also(r) } : rec }
  }

  /** Passive accounting moved a peer's err window (its `onWindow` hook). */
  readonly passiveWindow = (skey: string, srv: { host: string; port: number }, to: 'ok' | 'err', cause: 'passive' | 'admin' = 'passive'): void =>
    this.transition({ skey, host: srv.host, port: srv.port, from: to === 'err' ? 'ok' : 'err', to, cause, passive: true })

  /** `{ <skey>: { "<host>:<port>": PeerStats } }` for the given upstreams (one with `skey`). */
  upstreams(ups: Readonly<Record<string, ResolvedUpstream>>, skey?: string): Record<string, Record<string, PeerStats>> {
    const out: Record<string, Record<string, PeerStats>> = {}
    for (const [k, u] of Object.entries(ups)) {
      if (skey !== undefined && k !== skey) continue
      const peers: Record<string, PeerStats> = {}
      forEachServer(u, (s) => { peers[`${s.host}:${s.port}`] ??= this.peer(k, s.host, s.port) })
      out[k] = peers
    }
    if (skey !== undefined && out[skey] === undefined) throw new CheckupsError('CKP_ERR_UNKNOWN_SKEY', `unknown skey ${skey}`)
    return out
  }

  /** A peer's statistics (zeros when nothing counted it yet). */
  peer(skey: string, host: string, port: number): PeerStats {
    return peerStatsOf(this.zone, this.zone.lookup(skey, host, port), this.now())
  }

  /** Heartbeat round durations: count, sum (s) and non-cumulative buckets. */
  rounds(): { count: number; sum: number; buckets: number[] } {
    const i64 = this.zone.i64
    const buckets: number[] = []
    for (let b = 0; b <= ROUND_BOUNDS.length; b++) buckets.push(Number(Atomics.load(i64, H64.HB_ROUND_BUCKETS + b)))
    return { count: Number(Atomics.load(i64, H64.HB_ROUNDS)), sum: Number(Atomics.load(i64, H64.HB_ROUND_SUM_US)) / 1e6, buckets }
  }
}

export { LATENCY_BOUNDS, OUTCOMES, ROUND_BOUNDS }
