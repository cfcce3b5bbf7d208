/**
 * The heartbeat (`@checkups/core/heartbeat`): every worker is a candidate; the lease holder
 * (election.ts) runs rounds (round.ts). The contract is contract.ts; core plugs it in through
 * host.ts.
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
import type { Heartbeat, HeartbeatOptions } from './contract.js'
import { HeartbeatRunner } from './runner.js'

export type * from './contract.js'
export { DEFAULT_POLL_MS } from './runner.js'
export { releaseLease, readLease } from './election.js'
export { aggregateUpstream, updatePeer, type PeerOutcome, type AggregateOptions } from './aggregate.js'
export { DEFAULT_CONCURRENCY, DEFAULT_MAX_SOCKETS } from './round.js'
export { planRound, type RoundPlan, type PlannedUpstream, type PlannedPeer, type PlannedProbe } from './plan.js'
export {
  probeGeneral, probeHttp, probeMysql, probeRedis, probeCustom, judgeStatusLine, normaliseCustom, parseInfo,
} from './probes/index.js'

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
