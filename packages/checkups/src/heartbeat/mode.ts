/**
 * Where a round's probes run: the leader's main thread or a piscina thread
 * (`global.heartbeat_thread`, or the `pool` option of createHeartbeat, which wins).
 *
 * - `true` / PoolOptions: always the thread (piscina must be installed: checked when the
 *   heartbeat is created, CKP_ERR_MISSING_PACKAGE otherwise).
 * - `false`: always in-process.
 * - `'auto'` (the default): the thread once the round has HEARTBEAT_THREAD_AUTO_PEERS peers
 *   or more without a custom heartbeat (functions cannot cross threads), and piscina is
 *   installed; in-process otherwise. Decided at each round start, so a fleet that grows past
 *   the threshold through the admin API moves to the thread at its next round.
 *
 * Counting is one walk over the servers (no probe identities, no records read): it runs on
 * the main thread before every round.
 */
import type { HeartbeatFn, ResolvedUpstream } from '../config/types.js'
import { heartbeatEnabled, levelsOf } from '../config/walk.js'
import { isInstalled } from '../optional-deps.js'
import type { PoolOptions } from './contract.js'

/**
 * Peers from which `'auto'` probes on a thread. Measured (scripts/bench/heartbeat.mjs, 2 cores):
 * in-process a round costs the main thread ~0.2 ms of CPU per peer, in synchronous passes
 * (plan, history, record writes) and probe bursts; at 500 peers that is ~100 ms of main-thread
 * work a round, while a thread round costs the main thread a few ms whatever the size. Below
 * the threshold the thread's start-up and the copy of the upstreams are not worth it.
 */
export const HEARTBEAT_THREAD_AUTO_PEERS = 500

export type ThreadSetting = 'auto' | boolean | PoolOptions
export type Runner = 'thread' | 'in-process'

/** Peers a thread would probe: heartbeat on, no custom heartbeat (server entries, repeats included). */
export function threadablePeers(upstreams: Readonly<Record<string, ResolvedUpstream>>, defaultEnable: boolean,
  custom: Readonly<Record<string, HeartbeatFn>> | undefined): number {
  let n = 0
  for (const [skey, ups] of Object.entries(upstreams)) {
    if (ups.heartbeat || custom?.[skey] || !heartbeatEnabled(ups, defaultEnable)) continue
    for (const level of levelsOf(ups)) n += level.servers.length
  }
  return n
}

/** The runner of a round with `peers` thread-able peers under `setting`. */
export function chooseRunner(setting: ThreadSetting, peers: number, threshold = HEARTBEAT_THREAD_AUTO_PEERS): Runner {
  if (setting === false) return 'in-process'
  if (setting !== 'auto') return 'thread'
  return peers >= threshold && isInstalled('piscina') ? 'thread' : 'in-process'
}
