/**
 * The heartbeat's lifecycle (index.ts has the contract): candidacy polling, leadership, the
 * round schedule. Phases: 'idle' → start() → 'candidate' ⇄ 'leader' → stop() → 'stopped'.
 *
 * Invariants
 * - At most one round in flight per instance (`inFlight`); the schedule arms the next round
 *   only after the current one settled, `interval` after its start (no drift, no overlap).
 * - Only a 'leader' whose lease still names it commits a scheduled round (round.ts checks
 *   `stillLeader` before writing, and again before the finishing keys).
 * - `roundTimer` is armed only in the 'leader' phase; demotion and stop clear it.
 */
import { systemClock, type Clock } from '../clock.js'
import { SLOT } from '../keys.js'
import { holdsLease, readLease, releaseLease, renewLease, tryAcquire, type Candidate, type Lease } from './election.js'
import type { Bounds } from './limit.js'
import { createPool, splitForPool, type HeartbeatPool } from './pool.js'
import { bounds, finishRound, probeAndWrite, type WriteResult } from './round.js'
import { silentLogger, type DictLike, type HeartbeatGlobals, type Logger, type UpstreamLike } from './types.js'
import type { Heartbeat, HeartbeatOptions, HeartbeatPhase, RoundReport } from './index.js'

/** Candidate poll period, ms: a dead leader's lease (removed by the primary) is retaken within it. */
export const DEFAULT_POLL_MS = 250
/** The original's defaults. */
export const DEFAULT_GLOBALS: HeartbeatGlobals = {
  checkup_timer_interval: 5, checkup_timer_overtime: 60, default_heartbeat_enable: true,
}

type Upstreams = Readonly<Record<string, UpstreamLike>>

export class HeartbeatRunner implements Heartbeat {
  private readonly state: DictLike
  private readonly mutex: DictLike
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly me: Candidate
  private readonly pollMs: number
  private readonly limits: Bounds
  private readonly pool: HeartbeatPool | undefined
  private current: HeartbeatPhase = 'idle'
  private pollTimer: unknown
  private roundTimer: unknown
  private inFlight: Promise<RoundReport> | undefined
  private committed = 0
  private globals: HeartbeatGlobals

  constructor(private readonly opts: HeartbeatOptions) {
    this.state = opts.shared.state
    this.mutex = opts.shared.mutex
    this.clock = opts.clock ?? systemClock
    this.logger = opts.logger ?? silentLogger
    this.me = { worker: opts.worker.id, pid: opts.worker.pid }
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS
    this.limits = bounds(opts.concurrency, opts.maxSockets)
    this.pool = opts.pool ? createPool(this.state, this.mutex, opts.pool === true ? {} : opts.pool) : undefined
    this.globals = this.view().globals
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
    await this.inFlight?.catch(() => undefined)
    await this.pool?.close()
  }

  isLeader(): boolean { return this.current === 'leader' }
  phase(): HeartbeatPhase { return this.current }
  async runRound(opts: { fresh?: boolean } = {}): Promise<RoundReport> {
    if (opts.fresh) await this.inFlight?.catch(() => undefined)
    return this.round(false)
  }
  rounds(): number { return this.committed }
  lease(): Lease | undefined { return readLease(this.mutex) }

  private view(): { globals: HeartbeatGlobals; upstreams: Upstreams } {
    const o = this.opts
    if (o.getConfig) {
      const c = o.getConfig()
      return { globals: { ...DEFAULT_GLOBALS, ...c.global }, upstreams: c.upstreams }
    }
    return { globals: { ...DEFAULT_GLOBALS, ...o.globals }, upstreams: o.getUpstreams?.() ?? {} }
  }

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
      this.logger.info('heartbeat: leader elected', { worker: this.me.worker, pid: this.me.pid })
      this.roundTimer = this.clock.setTimeout(() => void this.loop(), 0)
    }
    this.pollTimer = this.clock.setTimeout(() => this.poll(), this.pollMs)
  }

  private demote(): void {
    this.current = 'candidate'
    if (this.roundTimer !== undefined) this.clock.clearTimeout(this.roundTimer)
    this.roundTimer = undefined
    this.logger.warn('heartbeat: lease lost', { worker: this.me.worker, pid: this.me.pid, holder: readLease(this.mutex)?.pid ?? null })
  }

  private async loop(): Promise<void> {
    this.roundTimer = undefined
    if (this.current !== 'leader') return
    const started = this.clock.now()
    try {
      await this.round(true)
    } catch (e) {
      this.logger.error('heartbeat: round failed', { err: e instanceof Error ? e.message : String(e) })
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
    const v = this.view()
    this.globals = v.globals
    const started = this.clock.now()
    const stillLeader = guard
      ? () => this.current === 'leader' && holdsLease(this.mutex, this.me)
      : () => this.current !== 'stopped'
    const res = await this.probe(v.upstreams, guard, stillLeader)
    let version = this.state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION)
    if (res.committed && stillLeader()) {
      version = finishRound(this.state, this.clock.now(), this.globals.checkup_timer_overtime, this.logger)
      this.committed += 1
      this.opts.onRound?.(res.checks, this.clock.now() - started)
    } else {
      res.committed = false
    }
    return { ...res, started, ms: this.clock.now() - started, version }
  }

  private async probe(upstreams: Upstreams, guard: boolean, stillLeader: () => boolean): Promise<WriteResult> {
    const common = { defaultEnable: this.globals.default_heartbeat_enable, limits: this.limits }
    const local = { ...common, state: this.state, logger: this.logger, customHeartbeats: this.opts.customHeartbeats,
      stillLeader, nowSeconds: () => this.clock.now() / 1000 }
    if (!this.pool) return probeAndWrite(upstreams, local)
    const split = splitForPool(upstreams, this.opts.customHeartbeats)
    const [a, b] = await Promise.all([
      this.pool.run({ ...common, guard, me: this.me, upstreams: split.pooled }),
      probeAndWrite(split.local, local),
    ])
    for (const err of a.errors) this.logger.error('heartbeat: thread', { err })
    return {
      upstreams: a.upstreams + b.upstreams, peers: a.peers + b.peers, probes: a.probes + b.probes,
      written: a.written + b.written, committed: a.committed && b.committed, checks: [...a.checks, ...b.checks],
    }
  }
}
