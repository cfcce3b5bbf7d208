/**
 * The heartbeat: every worker is a candidate;
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
import type { Lease } from './election.js'
import { HeartbeatRunner } from './runner.js'
import type { PoolOptions } from './pool.js'
import type { PeerCheck, WriteResult } from './round.js'
export type { PeerCheck } from './round.js'
import type { DictLike, HeartbeatFn, HeartbeatGlobals, Logger, UpstreamLike } from './types.js'
import type { Clock } from '../clock.js'

export { DEFAULT_POLL_MS, DEFAULT_GLOBALS } from './runner.js'
export { releaseLease, readLease, type Lease } from './election.js'
export { aggregateUpstream, updatePeer, type PeerOutcome, type AggregateOptions } from './aggregate.js'
export { localtime, DEFAULT_CONCURRENCY, DEFAULT_MAX_SOCKETS } from './round.js'
export type * from './types.js'

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
  /** after each committed round: every checked peer (status before → after) and its duration */
  onRound?: (checks: PeerCheck[], ms: number) => void
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
  /**
   * runs one round now, leader or not (tests, tools); joins a round already in flight, or with
   * `fresh` waits for it and starts a new one (so the probes see the world as of this call)
   */
  runRound(opts?: { fresh?: boolean }): Promise<RoundReport>
  /** rounds this instance committed */
  rounds(): number
  lease(): Lease | undefined
}

/**
 * Creates this worker's heartbeat candidate. Nothing runs until `start()`.
 *
 * @example
 * const hb = createHeartbeat({ shared: { state, mutex }, worker: { id: 0, count: 4, pid: process.pid },
 *   getConfig: () => ({ global: config.global, upstreams: currentUpstreams() }) })
 * hb.start()               // polls the lease; the holder runs rounds
 * // primary, when a worker dies: releaseLease(mutex, deadPid)
 */
export function createHeartbeat(opts: HeartbeatOptions): Heartbeat {
  return new HeartbeatRunner(opts)
}
