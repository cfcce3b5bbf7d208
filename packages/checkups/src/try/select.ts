/**
 * selectPeer: readyOk with a callback that always succeeds (the original's select_peer),
 * done synchronously on the hot path: no allocation, no shared-memory access beyond the
 * view's version check (and a passive record read at most once per fail_timeout when
 * max_fails > 0).
 */
import { hashKeyOf } from '../balancer/key.js'
import type { ConsistentHash } from '../balancer/chash.js'
import type { Clock } from '../clock.js'
import { CheckupsError } from '../errors.js'
import type { PassiveAccounting } from '../passive/accounting.js'
import type { PeerResult, UpstreamView } from '../view/upstream-view.js'
import { type ClusterKey, clusterOrder, freshen, reportAttempt } from './pick.js'
import { maxConns } from '../balancer/max-conns.js'
import type { HashKeyOptions } from '../balancer/key.js'

export interface SelectOptions extends HashKeyOptions {
  cluster_key?: ClusterKey
}

export function selectPeer(clock: Clock, passive: PassiveAccounting, u: UpstreamView, opts?: SelectOptions): PeerResult {
  freshen(u, clock)
  const levels = opts?.cluster_key == null ? u.levels : clusterOrder(u, opts.cluster_key)
  const key = u.hashed ? hashKeyOf(u.ups.mode, opts) : ''
  let full = false
  for (let l = 0; l < levels.length; l++) {
    const level = levels[l]!
    const lim = level.limit
    const avail = lim === undefined ? level.avail : lim.mask(level.avail)
    // two call sites: the hash one only ever sees ConsistentHash (monomorphic, inlined), so
    // selecting round-robin and hash upstreams in one process does not slow either down
    const idx = u.hashed ? (level.balancer as ConsistentHash).pick(avail, key) : level.balancer.pick(avail, key)
    if (idx === -1) {
      full = lim !== undefined && lim.skipped > 0
      continue
    }
    if (u.passive) reportAttempt(passive, clock, u, level, idx, false)
    return level.peers[idx]!.result
  }
  if (full) throw maxConns()
  throw new CheckupsError('CKP_ERR_NO_SERVERS', 'no servers available')
}
