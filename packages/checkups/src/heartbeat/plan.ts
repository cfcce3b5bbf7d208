/**
 * Round planning: which upstreams are checked, each one's peers in server order over all
 * levels, and the distinct probes to run (a peer shared by several clusters/upstreams with the
 * same probe parameters is probed once per round — see probes/index.ts for the identity).
 *
 * - An upstream is skipped when its heartbeat is off (config/walk.ts `heartbeatEnabled`).
 * - Levels: array order, or named clusters in definition order.
 * - A host:port repeated within one upstream is listed once (its first position), so its
 *   record sees one result per round.
 * - Custom heartbeat: `ups.heartbeat`, else `customHeartbeats[skey]` (dynamic upstreams lose
 *   functions when they pass through shared memory; the config module keeps them).
 */
import type { HeartbeatFn, ResolvedUpstream } from '../config/types.js'
import { heartbeatEnabled, levelsOf } from '../config/walk.js'
import { KEY } from '../keys.js'
import { probeId, probeParams } from './probes/index.js'

export interface PlannedPeer {
  host: string
  port: number
  /** record key */
  key: string
  /** probe identity (key of RoundPlan.probes) */
  probe: string
}

export interface PlannedUpstream {
  skey: string
  protected: boolean
  sensibility: number
  /** absent = 1 */
  rise?: number
  peers: PlannedPeer[]
}

export interface PlannedProbe {
  host: string
  port: number
  skey: string
  ups: ResolvedUpstream
  custom: HeartbeatFn | undefined
}

export interface RoundPlan {
  upstreams: PlannedUpstream[]
  probes: Map<string, PlannedProbe>
}

export interface PlanOptions {
  defaultEnable: boolean
  customHeartbeats?: Readonly<Record<string, HeartbeatFn>> | undefined
}

export function planRound(upstreams: Readonly<Record<string, ResolvedUpstream>>, opts: PlanOptions): RoundPlan {
  const plan: RoundPlan = { upstreams: [], probes: new Map() }
  for (const [skey, ups] of Object.entries(upstreams)) {
    if (!heartbeatEnabled(ups, opts.defaultEnable)) continue
    const custom = ups.heartbeat ?? opts.customHeartbeats?.[skey] ?? undefined
    const planned: PlannedUpstream = { skey, protected: ups.protected, sensibility: ups.sensibility, peers: [] }
    if (ups.rise !== undefined) planned.rise = ups.rise
    const seen = new Set<string>()
    const params = probeParams(skey, ups, custom)
    for (const level of levelsOf(ups)) {
      for (const srv of level.servers) {
        const port = srv.port
        const key = KEY.peerStatus(skey, srv.host, port)
        if (seen.has(key)) continue
        seen.add(key)
        const probe = probeId(params, srv.host, port)
        if (!plan.probes.has(probe)) plan.probes.set(probe, { host: srv.host, port, skey, ups, custom })
        planned.peers.push({ host: srv.host, port, key, probe })
      }
    }
    if (planned.peers.length > 0) plan.upstreams.push(planned)
  }
  return plan
}

/**
 * The record keys a round over `upstreams` writes (what planRound lists), without probe
 * identities: the leader's main thread walks this before every round, thread or not.
 */
export function plannedKeys(upstreams: Readonly<Record<string, ResolvedUpstream>>, defaultEnable: boolean): Set<string> {
  const keys = new Set<string>()
  for (const [skey, ups] of Object.entries(upstreams)) {
    if (!heartbeatEnabled(ups, defaultEnable)) continue
    for (const level of levelsOf(ups)) for (const srv of level.servers) keys.add(KEY.peerStatus(skey, srv.host, srv.port))
  }
  return keys
}
