/**
 * The select step shared by readyOk and selectPeer: which clusters, in which order
 *, and the per-attempt feedback (passive + balancer).
 */
import type { Clock } from '../clock.js'
import type { PassiveAccounting } from '../passive/accounting.js'
import type { LevelView, UpstreamView } from '../view/upstream-view.js'

export type ClusterKey = readonly (string | number)[] | string | number | null | undefined

/** The levels to try: `cluster_key` order (unknown keys skipped), else all in order. */
export function clusterOrder(u: UpstreamView, clusterKey: ClusterKey): readonly LevelView[] {
  if (clusterKey === undefined || clusterKey === null) return u.levels
  const keys = Array.isArray(clusterKey) ? clusterKey : [clusterKey as string | number]
  const numbered = Array.isArray(u.ups.cluster)
  const out: LevelView[] = []
  for (const k of keys) {
    const key = numbered && typeof k === 'string' && /^\d+$/.test(k) ? Number(k) : k
    const l = u.level(key)
    if (l !== undefined) out.push(l)
  }
  return out
}

/** Recomputes availability when a passive err window has run out since the last compute. */
export function freshen(u: UpstreamView, clock: Clock): void {
  if (u.nextExpiry !== Infinity) {
    const now = clock.now()
    if (now >= u.nextExpiry) u.computeAvail(now)
  }
}

/**
 * Feedback after an attempt on `level.peers[idx]`: balancer, then passive accounting. A
 * success inside a window already known to be stored is a no-op (it would change nothing),
 * so the success path touches shared memory once per fail_timeout at most.
 */
export function reportAttempt(
  passive: PassiveAccounting, clock: Clock, u: UpstreamView, level: LevelView, idx: number, failed: boolean,
): void {
  level.balancer.report(idx, failed)
  const p = level.peers[idx]
  if (p === undefined || p.server.max_fails === 0) return
  if (!failed && clock.now() <= p.knownSince + p.server.fail_timeout * 1000) return
  const since = passive.report(u.skey, u.ups, p.server, failed)
  if (since > p.knownSince) p.knownSince = since
}
