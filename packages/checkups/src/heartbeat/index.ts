/**
 * The heartbeat (DESIGN.md §Heartbeat, BEHAVIOR.md §Heartbeat): every worker is a candidate;
 * the lease holder (election.ts) runs rounds (round.ts).
 *
 * Lifecycle: 'idle' → start() → 'candidate' ⇄ 'leader' → stop() → 'stopped'.
 * - Candidates poll the lease every `pollMs` (250 ms: one shared-dict read, or one `safeAdd`
 *   when it is free), so a lease removed by the primary is taken within that time.
 * - A new leader runs its first round at once; later rounds start `checkup_timer_interval`
 *   after the previous round's *start* (no drift); a round that outlasts the interval is
 *   never overlapped: the next one starts right after it.
 * - The leader renews the lease every poll and after every round; when it reads a lease that
 *   is not its own it demotes itself and the round in flight is discarded.
 * - Time comes from the injected clock (scheduling, lastmodified, last_check_time); probes
 *   use real sockets with real timeouts.
 */
import { systemClock, type Clock } from '../clock.js'
import { SLOT } from '../keys.js'
import { holdsLease, readLease, releaseLease, renewLease, tryAcquire, type Candidate, type Lease } from './election.js'
import { createPool, splitForPool, type HeartbeatPool, type PoolOptions } from './pool.js'
import { bounds, finishRound, probeAndWrite, type WriteResult } from './round.js'
import { silentLogger, type DictLike, type HeartbeatFn, type HeartbeatGlobals, type Logger, type UpstreamLike } from './types.js'

export { releaseLease, readLease, type Lease } from './election.js'
export { aggregateUpstream, updatePeer, type PeerOutcome, type AggregateOptions } from './aggregate.js'
export { localtime, DEFAULT_CONCURRENCY, DEFAULT_MAX_SOCKETS } from './round.js'
export type * from './types.js'

/** Candidate poll period, ms: a dead leader's lease (removed by the primary) is retaken within it. */
export const DEFAULT_POLL_MS = 250
/** The original's defaults (BEHAVIOR.md §Config). */
export const DEFAULT_GLOBALS: HeartbeatGlobals = {
  checkup_timer_interval: 5, checkup_timer_overtime: 60, default_heartbeat_enable: true,
}

export interface HeartbeatOptions {
  shared: { state: DictLike; mutex: DictLike }
  clock?: Clock
  worker: { id: number; count?: number; pid: number }
  logger?: Logger
  /** all upstreams (dynamic ones included), read at each round start */
  getUpstreams?: () => Readonly<Record<string, UpstreamLike>>
  /** alternative to getUpstreams + globals: the resolved config view (global + upstreams) */
  getConfig?: () => { global: Partial<HeartbeatGlobals>; upstreams: Readonly<Record<string, UpstreamLike>> }
  /** global settings when getUpstreams is used (defaults: DEFAULT_GLOBALS) */
  globals?: Partial<HeartbeatGlobals>
  /** skey → custom heartbeat, for upstreams whose `heartbeat` function was lost to shm */
  customHeartbeats?: Readonly<Record<string, HeartbeatFn>>
  /** probes doing work at once (default 256; a probe pending > 100 ms frees its slot) */
  concurrency?: number
  /** probes in flight at all, hanging ones included = sockets held (default 1024) */
  maxSockets?: number
  pollMs?: number
  /** run probing on a piscina thread (true = one thread) */
  pool?: boolean | PoolOptions
}

export interface RoundReport extends WriteResult {
  /** clock time the round started, ms */
  started: number
  /** clock time it took, ms */
  ms: number
  /** STATE_HEARTBEAT_VERSION after the round (unchanged when not committed) */
  version: number
}

export type HeartbeatPhase = 'idle' | 'candidate' | 'leader' | 'stopped'

export interface Heartbeat {
  /** becomes a candidate (polls the lease at once) */
  start(): void
  /** stops polling and rounds; a leader removes its lease so another worker takes over */
  stop(): Promise<void>
  isLeader(): boolean
  phase(): HeartbeatPhase
  /** runs one round now, leader or not (tests, tools); joins a round already in flight */
  runRound(): Promise<RoundReport>
  /** rounds this instance committed */
  rounds(): number
  lease(): Lease | undefined
}

export function createHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const { state, mutex } = opts.shared
  const clock = opts.clock ?? systemClock
  const logger = opts.logger ?? silentLogger
  const me: Candidate = { worker: opts.worker.id, pid: opts.worker.pid }
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS
  const limits = bounds(opts.concurrency, opts.maxSockets)
  const pool: HeartbeatPool | undefined = opts.pool
    ? createPool(state, mutex, opts.pool === true ? {} : opts.pool) : undefined
  let phase: HeartbeatPhase = 'idle'
  let pollTimer: unknown
  let roundTimer: unknown
  let inFlight: Promise<RoundReport> | undefined
  let committed = 0

  function view(): { globals: HeartbeatGlobals; upstreams: Readonly<Record<string, UpstreamLike>> } {
    if (opts.getConfig) {
      const c = opts.getConfig()
      return { globals: { ...DEFAULT_GLOBALS, ...c.global }, upstreams: c.upstreams }
    }
    return { globals: { ...DEFAULT_GLOBALS, ...opts.globals }, upstreams: opts.getUpstreams?.() ?? {} }
  }
  let globals = view().globals

  function poll(): void {
    pollTimer = undefined
    if (phase === 'stopped') return
    if (phase === 'leader') {
      if (!renewLease(mutex, me, globals.checkup_timer_overtime)) demote()
    } else if (tryAcquire(mutex, me, clock.now(), globals.checkup_timer_overtime)) {
      phase = 'leader'
      logger.info('heartbeat: leader elected', { worker: me.worker, pid: me.pid })
      roundTimer = clock.setTimeout(loop, 0)
    }
    pollTimer = clock.setTimeout(poll, pollMs)
  }

  function demote(): void {
    phase = 'candidate'
    if (roundTimer !== undefined) clock.clearTimeout(roundTimer)
    roundTimer = undefined
    logger.warn('heartbeat: lease lost', { worker: me.worker, pid: me.pid, holder: readLease(mutex)?.pid ?? null })
  }

  async function loop(): Promise<void> {
    roundTimer = undefined
    if (phase !== 'leader') return
    const started = clock.now()
    try {
      await round(true)
    } catch (e) {
      logger.error('heartbeat: round failed', { err: e instanceof Error ? e.message : String(e) })
    }
    if (phase !== 'leader' || roundTimer !== undefined) return
    if (!renewLease(mutex, me, globals.checkup_timer_overtime)) return demote()
    const delay = Math.max(0, started + globals.checkup_timer_interval * 1000 - clock.now())
    roundTimer = clock.setTimeout(loop, delay)
  }

  function round(guard: boolean): Promise<RoundReport> {
    inFlight ??= doRound(guard).finally(() => { inFlight = undefined })
    return inFlight
  }

  async function doRound(guard: boolean): Promise<RoundReport> {
    const v = view()
    globals = v.globals
    const started = clock.now()
    const stillLeader = guard ? () => phase === 'leader' && holdsLease(mutex, me) : () => phase !== 'stopped'
    const res = await probe(v.upstreams, guard, stillLeader)
    let version = state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION)
    if (res.committed && stillLeader()) {
      version = finishRound(state, clock.now(), globals.checkup_timer_overtime, logger)
      committed += 1
    } else {
      res.committed = false
    }
    return { ...res, started, ms: clock.now() - started, version }
  }

  async function probe(upstreams: Readonly<Record<string, UpstreamLike>>, guard: boolean,
    stillLeader: () => boolean): Promise<WriteResult> {
    const common = { defaultEnable: globals.default_heartbeat_enable, limits }
    const local = { ...common, state, logger, customHeartbeats: opts.customHeartbeats, stillLeader,
      nowSeconds: () => clock.now() / 1000 }
    if (!pool) return probeAndWrite(upstreams, local)
    const split = splitForPool(upstreams, opts.customHeartbeats)
    const [a, b] = await Promise.all([
      pool.run({ ...common, guard, me, upstreams: split.pooled }),
      probeAndWrite(split.local, local),
    ])
    for (const err of a.errors) logger.error('heartbeat: thread', { err })
    return {
      upstreams: a.upstreams + b.upstreams, peers: a.peers + b.peers, probes: a.probes + b.probes,
      written: a.written + b.written, committed: a.committed && b.committed,
    }
  }

  return {
    start() {
      if (phase !== 'idle') return
      phase = 'candidate'
      poll()
    },
    async stop() {
      const wasLeader = phase === 'leader'
      phase = 'stopped'
      if (pollTimer !== undefined) clock.clearTimeout(pollTimer)
      if (roundTimer !== undefined) clock.clearTimeout(roundTimer)
      pollTimer = roundTimer = undefined
      if (wasLeader && holdsLease(mutex, me)) releaseLease(mutex, me.pid)
      await inFlight?.catch(() => undefined)
      await pool?.close()
    },
    isLeader: () => phase === 'leader',
    phase: () => phase,
    runRound: () => round(false),
    rounds: () => committed,
    lease: () => readLease(mutex),
  }
}
