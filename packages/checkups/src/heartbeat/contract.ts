/**
 * The heartbeat's contract: what it is given (HeartbeatOptions) and what it offers
 * (Heartbeat). A leaf module — it imports only core's types — so the implementation
 * (runner.ts), the entry point (index.ts) and core's host (host.ts) all depend on it and never
 * on each other in a circle.
 *
 * The heartbeat takes core's resolved types as they are: defaults were applied once, when the
 * config was resolved; nothing here re-applies them.
 */
import type { Clock } from '../clock.js'
import type { HeartbeatFn, ResolvedGlobal, ResolvedUpstream } from '../config/types.js'
import type { PeerStatusCode } from '../records.js'
import type { Dict, Logger } from '../zone-types.js'

/** The config a round reads: the resolved globals and every current upstream. */
export interface HeartbeatView {
  readonly global: ResolvedGlobal
  readonly upstreams: Readonly<Record<string, ResolvedUpstream>>
}

/** The lease record in the `mutex` zone (election.ts). */
export interface Lease {
  worker: number
  pid: number
  /** ms since the epoch when this holder took it */
  since: number
}

export interface PoolOptions {
  /** threads in the pool (default 1: one round at a time, probing is I/O bound) */
  threads?: number
}

export interface HeartbeatOptions {
  shared: { readonly state: Dict; readonly mutex: Dict }
  clock?: Clock
  worker: { id: number; count?: number; pid: number }
  logger?: Logger
  /** the config, read at each round start (dynamic upstreams included) */
  getConfig: () => HeartbeatView
  /** skey → custom heartbeat, for upstreams whose `heartbeat` function was lost to shm */
  customHeartbeats?: Readonly<Record<string, HeartbeatFn>>
  /** probes doing work at once (default 256; a probe pending > 100 ms frees its slot) */
  concurrency?: number
  /** probes in flight at all, hanging ones included = sockets held (default 1024) */
  maxSockets?: number
  pollMs?: number
  /**
   * run probing on a piscina thread (true = one thread); 'auto' = from `threadPeers` peers on.
   * Absent: `global.heartbeat_thread` (default 'auto'), read at each round start.
   */
  pool?: 'auto' | boolean | PoolOptions
  /** peers from which 'auto' picks the thread (absent: `global.heartbeat_thread_peers`) */
  threadPeers?: number
  /**
   * after each committed round: every checked peer (status before → after), in batches of at
   * most CHECK_BATCH with a turn of the event loop between them (a 10 000-peer round is not
   * one long block on the leader's main thread); `done` is true on the last call only, which
   * also carries the round's duration
   */
  onRound?: (checks: PeerCheck[], ms: number, done: boolean) => void
  /** told when this worker becomes the leader (true) and when it stops being it (false) */
  onLeadership?: (leader: boolean) => void
}

/** One probe's outcome before aggregation. */
export interface ProbeResult {
  status: PeerStatusCode
  msg: string | null
  /** stored in the record as is (redis `replication`, `redis_version`, custom fields) */
  extras: Record<string, unknown>
}

export interface WriteResult {
  upstreams: number
  peers: number
  probes: number
  written: number
  /** records that could not be stored (the `state` zone is full) */
  failed: number
  /** false when the round was discarded because leadership was lost */
  committed: boolean
  /** each peer whose record was written: its status before (`ok` for a new record) and after */
  checks: PeerCheck[]
}

/** One peer's result in a committed round (statistics, transition logs and events). */
export interface PeerCheck {
  skey: string
  host: string
  port: number
  from: string
  to: string
  /** the probe's own result was not ok */
  failed: boolean
  msg: string | null
}

export interface RoundReport extends WriteResult {
  /** where the probes ran ('thread' also when some upstreams with a custom heartbeat ran here) */
  runner: 'thread' | 'in-process'
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
  /** a candidate tries for the lease now instead of at its next poll (a leader: nothing) */
  contend(): void
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
