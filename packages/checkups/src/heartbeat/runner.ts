/**
 * The heartbeat's lifecycle (contract.ts has the contract): candidacy polling, leadership, the
 * round schedule. Phases: 'idle' → start() → 'candidate' ⇄ 'leader' → stop() → 'stopped'.
 *
 * Invariants
 * - At most one round in flight per instance (`inFlight`); the schedule arms the next round
 *   only after the current one settled, `interval` after its start (no drift, no overlap).
 * - Only a 'leader' whose lease still names it commits a scheduled round (round.ts checks
 *   `stillLeader` before writing, and again before the finishing keys).
 * - `roundTimer` is armed only in the 'leader' phase; demotion and stop clear it.
 * - A candidate that becomes leader arms its first round at once (delay 0), whatever
 *   `last_check_time` says: the previous leader may have died just before its next round.
 * - Globals and upstreams are read from `getConfig()` at each round start, as resolved by
 *   core (defaults applied there, not here).
 * - `onLeadership(true)` follows each election, `onLeadership(false)` each demotion and the stop
 *   of a leader (the DNS refresher follows the lease with it).
 * - Records or round keys that did not fit the `state` zone are counted in a zone slot by
 *   round.ts and logged here, rate-limited.
 * - Where probes run is decided at each round start (mode.ts); the thread writes the records
 *   itself, so the main thread only posts the upstreams, writes the round keys and hands the
 *   checks to `onRound` in batches (deliverChecks).
 * - A round plans from the config read at its start and writes after probing: an upstream
 *   deleted (or a server removed) meanwhile gets its record written after the writer removed
 *   it. So each leader's round starts by deleting the records its previous committed round
 *   planned that the fresh config no longer has: no health record outlives its peer by more
 *   than one round.
 */
import { systemClock, type Clock } from '../clock.js'
import type { ResolvedGlobal, ResolvedUpstream } from '../config/types.js'
import { SLOT } from '../keys.js'
import { LogLimiter } from '../log-limit.js'
import { silentLogger, type Dict, type Logger } from '../zone-types.js'
import type { Heartbeat, HeartbeatOptions, HeartbeatPhase, Lease, RoundReport, WriteResult } from './contract.js'
import { holdsLease, readLease, releaseLease, renewLease, tryAcquire, type Candidate } from './election.js'
import type { Bounds } from './limit.js'
import { chooseRunner, threadablePeers, type Runner } from './mode.js'
import { createPool, splitForPool, type HeartbeatPool } from './pool.js'
import { plannedKeys } from './plan.js'
import { bounds, deliverChecks, finishRound, probeAndWrite } from './round.js'
import { requirePackage } from '../optional-deps.js'

/** Candidate poll period, ms: a dead leader's lease (removed by the primary) is retaken within it. */
export const DEFAULT_POLL_MS = 250

type Upstreams = Readonly<Record<string, ResolvedUpstream>>

export class HeartbeatRunner implements Heartbeat {
  private readonly state: Dict
  private readonly mutex: Dict
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly me: Candidate
  private readonly pollMs: number
  private readonly limits: Bounds
  private readonly pool: HeartbeatPool
  private current: HeartbeatPhase = 'idle'
  private pollTimer: unknown
  private roundTimer: unknown
  private inFlight: Promise<RoundReport> | undefined
  private committed = 0
  /** record keys the last committed round planned (swept when the config drops them) */
  private planned = new Set<string>()
  private globals: ResolvedGlobal
  private readonly limiter: LogLimiter

  constructor(private readonly opts: HeartbeatOptions) {
    this.state = opts.shared.state
    this.mutex = opts.shared.mutex
    this.clock = opts.clock ?? systemClock
    this.logger = opts.logger ?? silentLogger
    this.me = { worker: opts.worker.id, pid: opts.worker.pid }
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS
    this.limits = bounds(opts.concurrency, opts.maxSockets)
    this.globals = opts.getConfig().global
    const setting = opts.pool ?? this.globals.heartbeat_thread
    if (setting !== false && setting !== 'auto') requirePackage('piscina', 'the heartbeat thread (`heartbeat_thread: true`)')
    // piscina itself is loaded only by the first thread round (pool.ts)
    this.pool = createPool(this.state, this.mutex, typeof opts.pool === 'object' ? opts.pool : {})
    this.limiter = new LogLimiter(this.clock)
  }

  start(): void {
    if (this.current !== 'idle') return
    this.current = 'candidate'
    this.poll()
  }

  async stop(): Promise<void> {
    const wasLeader = this.current === 'leader'
    this.current = 'stopped'
    this.clearTimers()
    if (wasLeader && holdsLease(this.mutex, this.me)) releaseLease(this.mutex, this.me.pid)
    if (wasLeader) this.opts.onLeadership?.(false)
    await this.inFlight?.catch(() => undefined)
    await this.pool.close()
  }

  /** A candidate polls the lease now (another worker exited: its lease may just be gone). */
  contend(): void {
    if (this.current !== 'candidate') return
    if (this.pollTimer !== undefined) this.clock.clearTimeout(this.pollTimer)
    this.poll()
  }

  isLeader(): boolean { return this.current === 'leader' }
  phase(): HeartbeatPhase { return this.current }
  async runRound(opts: { fresh?: boolean } = {}): Promise<RoundReport> {
    if (opts.fresh) await this.inFlight?.catch(() => undefined)
    return this.round(false)
  }
  rounds(): number { return this.committed }
  lease(): Lease | undefined { return readLease(this.mutex) }

  private clearTimers(): void {
    if (this.pollTimer !== undefined) this.clock.clearTimeout(this.pollTimer)
    if (this.roundTimer !== undefined) this.clock.clearTimeout(this.roundTimer)
    this.pollTimer = this.roundTimer = undefined
  }

  private poll(): void {
    this.pollTimer = undefined
    if (this.current === 'stopped') return
    const overtime = this.globals.checkup_timer_overtime
    if (this.current === 'leader') {
      if (!renewLease(this.mutex, this.me, overtime)) this.demote()
    } else if (tryAcquire(this.mutex, this.me, this.clock.now(), overtime)) {
      this.current = 'leader'
      this.logger.info({}, 'heartbeat: leader elected')
      this.opts.onLeadership?.(true)
      this.roundTimer = this.clock.setTimeout(() => void this.loop(), 0)
    }
    this.pollTimer = this.clock.setTimeout(() => this.poll(), this.pollMs)
  }

  private demote(): void {
    this.current = 'candidate'
    if (this.roundTimer !== undefined) this.clock.clearTimeout(this.roundTimer)
    this.roundTimer = undefined
    this.logger.warn({ holder: readLease(this.mutex)?.pid ?? null }, 'heartbeat: lease lost')
    this.opts.onLeadership?.(false)
  }

  private async loop(): Promise<void> {
    this.roundTimer = undefined
    if (this.current !== 'leader') return
    const started = this.clock.now()
    try {
      await this.round(true)
    } catch (e) {
      this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'heartbeat: round failed')
    }
    if (this.current !== 'leader' || this.roundTimer !== undefined) return
    if (!renewLease(this.mutex, this.me, this.globals.checkup_timer_overtime)) return this.demote()
    const delay = Math.max(0, started + this.globals.checkup_timer_interval * 1000 - this.clock.now())
    this.roundTimer = this.clock.setTimeout(() => void this.loop(), delay)
  }

  private round(guard: boolean): Promise<RoundReport> {
    this.inFlight ??= this.doRound(guard).finally(() => { this.inFlight = undefined })
    return this.inFlight
  }

  private async doRound(guard: boolean): Promise<RoundReport> {
    const v = this.opts.getConfig()
    this.globals = v.global
    const started = this.clock.now()
    const stillLeader = guard
      ? () => this.current === 'leader' && holdsLease(this.mutex, this.me)
      : () => this.current !== 'stopped'
    const runner = this.runnerFor(v.upstreams)
    const planned = this.sweep(v.upstreams, stillLeader)
    const { checkBatches, ...res } = await this.probe(v.upstreams, guard, stillLeader, runner)
    let version = this.state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION)
    if (res.committed && stillLeader()) {
      this.planned = planned
      const ms = this.clock.now() - started
      const fin = finishRound(this.state, this.clock.now(), this.globals.checkup_timer_overtime, { runner, peers: res.peers, ms })
      version = fin.version
      res.failed += fin.failed
      this.committed += 1
      const onRound = this.opts.onRound
      res.checks = await deliverChecks(res.checks, checkBatches, onRound && ((batch, done) => onRound(batch, ms, done)))
    } else {
      res.committed = false
      res.checks = await deliverChecks(res.checks, checkBatches)
    }
    if (res.failed > 0) {
      this.limiter.error(this.logger, 'heartbeat: failed to set peer status', {
        err: 'no memory', zone: 'state', failed: res.failed, total: this.state.loadSlot(SLOT.STATE_HEARTBEAT_WRITE_ERRORS),
      })
    }
    return { ...res, runner, started, ms: this.clock.now() - started, version }
  }

  private runnerFor(upstreams: Upstreams): Runner {
    const setting = this.opts.pool ?? this.globals.heartbeat_thread
    const threshold = this.opts.threadPeers ?? this.globals.heartbeat_thread_peers
    if (setting !== 'auto') return chooseRunner(setting, 0, threshold)
    return chooseRunner(setting, threadablePeers(upstreams, this.globals.default_heartbeat_enable, this.opts.customHeartbeats), threshold)
  }

  /** Deletes the previous round's records whose peers `upstreams` no longer has; returns this round's keys. */
  private sweep(upstreams: Upstreams, stillLeader: () => boolean): Set<string> {
    const keys = plannedKeys(upstreams, this.globals.default_heartbeat_enable)
    if (stillLeader()) for (const k of this.planned) if (!keys.has(k)) this.state.delete(k)
    return keys
  }

  private async probe(upstreams: Upstreams, guard: boolean, stillLeader: () => boolean, runner: Runner): Promise<WriteResult & { checkBatches: Uint8Array[] }> {
    const common = { defaultEnable: this.globals.default_heartbeat_enable, limits: this.limits }
    const local = { ...common, state: this.state, customHeartbeats: this.opts.customHeartbeats,
      stillLeader, nowSeconds: () => this.clock.now() / 1000 }
    if (runner === 'in-process') return { ...await probeAndWrite(upstreams, local), checkBatches: [] }
    const split = splitForPool(upstreams, this.opts.customHeartbeats)
    const [a, b] = await Promise.all([
      this.pool.run({ ...common, guard, me: this.me, upstreams: split.pooled }),
      probeAndWrite(split.local, local),
    ])
    return {
      upstreams: a.upstreams + b.upstreams, peers: a.peers + b.peers, probes: a.probes + b.probes,
      written: a.written + b.written, failed: a.failed + b.failed, committed: a.committed && b.committed,
      checks: b.checks, checkBatches: a.checkBatches,
    }
  }
}
