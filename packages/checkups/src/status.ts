/**
 * getStatus(): the original's status shape plus new fields: each peer's
 * passive record (`passive: { status, count, since }`), `heartbeat_leader`, and
 * `state_write_errors` (health records the `state` zone could not hold: a non-zero count means
 * some peers' health is not shared — make the zone larger).
 *
 * Reads only: heartbeat records (state), passive records (state), LAST_CHECK_TIME,
 * TIMER_ALIVE, START_TIME, the config_timer liveness keys of workers 0..count-1, and the
 * heartbeat lease (mutex), and with `global.dns` the published DNS records (config). A plain,
 * JSON-serialisable object. With `global.cluster_store`, the cluster-store link (config zone). With `global.dns` the peers are the upstreams as served: a server
 * named by hostname shows one peer per address, each with `dns: { name, addresses, age, stale }`.
 */
import type { ResolvedServer, ResolvedUpstream } from './config/types.js'
import { heartbeatEnabled, levelEntries } from './config/walk.js'
import { KEY, SLOT } from './keys.js'
import { readPassive } from './passive/accounting.js'
import { type HeartbeatRecord, STATUS_ERR, STATUS_NAMES, STATUS_OK, decodeRecord } from './records.js'
import { type SharedZones, asBytes } from './zone-types.js'
import { localtime } from './time.js'
import type { PeerLoad } from './balancer/load.js'
import { C } from './stats/layout.js'
import { type ClusterStoreStatus, readClusterStatus } from './cluster/published.js'
import type { DnsView } from './dns/record.js'
import type { DnsStatus } from './dns/host.js'

export type PeerStatusName = 'ok' | 'err' | 'unstable' | 'unchecked'

export interface PeerStatus {
  server: string
  status: PeerStatusName
  weight: number
  max_fails: number
  fail_timeout: number
  fail_num?: number
  /** local time `YYYY-MM-DD hh:mm:ss` of the last flip, as the original shows it */
  lastmodified?: string
  msg?: string | null
  passive?: { status: 'ok' | 'err'; count: number; since: number }
  /** load-aware modes (least_conn, p2c) and max_conns only: attempts in flight, all workers */
  inflight?: number
  max_conns?: number
  /** p2c only: the peer's latency cost (ms) its score multiplies */
  latency_cost_ms?: number
  /** with `outlier_detection`: ejections so far, and until when (seconds since the epoch) the peer is out */
  outlier?: { ejections: number; ejected_until: number | null }
  /**
   * with `slow_start`: the `factor` of its configured weight the peer gets now (0.1–1, 1 when
   * no ramp runs), `weight` = weight × factor, `until` the ramp's end (seconds since the epoch,
   * null when none runs). This worker's view: an added peer ramps from when it first had it.
   */
  slow_start?: { factor: number; weight: number; until: number | null }
  /** with `rise` > 1: good checks so far of a peer on its way back to ok */
  rise?: { ok: number; needed: number }
  /** a peer resolved from a hostname (global.dns): the name, its addresses, their age (s), stale */
  dns?: DnsView
  [extra: string]: unknown
}

export interface Status {
  [cls: `cls:${string}`]: PeerStatus[][] | Record<string, PeerStatus[]>
  last_check_time: string | null
  checkup_timer_alive: boolean
  start_time: string | null
  conf_hash: string | null
  shd_config_version: number | null
  config_timer: Record<string, 'alive' | 'dead'>
  heartbeat_leader?: { worker: number; pid: number; since: number }
  /** the last committed heartbeat round: where its probes ran, its peers, its duration (ms) */
  heartbeat_round?: { runner: 'thread' | 'in-process'; peers: number; ms: number }
  /** health writes the `state` zone could not hold (no memory), since the zone was made */
  state_write_errors: { heartbeat: number; passive: number }
  /** with `global.cluster_store`: this node's link to the shared store (cluster/published.ts) */
  cluster_store?: ClusterStoreStatus
  /** with global.dns: every server hostname, its published addresses, their age, stale, failures */
  dns?: Record<string, DnsStatus>
}

export interface StatusInput {
  zones: SharedZones
  upstreams: Readonly<Record<string, ResolvedUpstream>>
  defaultHeartbeat: boolean
  confHash: string | null
  shdConfigVersion: number | null
  workerCount: number
  now: number
  /** the shared load of a peer (balancer/load.ts), for the load-aware fields */
  load?: ((skey: string, host: string, port: number) => PeerLoad) | undefined
  /** a peer's running slow-start ramp (the worker view's UpstreamView.ramp) */
  ramp?: ((skey: string, host: string, port: number) => { factor: number; until: number } | undefined) | undefined
  /** global.dns: every name's published record, and one name's view (peers' `dns` field) */
  dns?: Record<string, DnsStatus> | undefined
  dnsOf?: ((name: string) => DnsView) | undefined
}

function loadFields(inp: StatusInput, skey: string, ups: ResolvedUpstream, s: ResolvedServer, out: PeerStatus): void {
  const aware = ups.mode === 'least_conn' || ups.mode === 'p2c'
  if (inp.load !== undefined && (aware || s.max_conns !== undefined || ups.outlier_detection !== undefined)) {
    const l = inp.load(skey, s.host, s.port)
    if (aware || s.max_conns !== undefined) out.inflight = l.inflight()
    if (ups.mode === 'p2c') out.latency_cost_ms = Math.round(l.cost(inp.now) * 1000) / 1000
    if (ups.outlier_detection !== undefined) {
      const until = l.word(C.OD_UNTIL_MS)
      out.outlier = { ejections: l.word(C.OD_EJECTIONS), ejected_until: until > inp.now ? until / 1000 : null }
    }
  }
  if (s.max_conns !== undefined) out.max_conns = s.max_conns
  if (ups.slow_start !== undefined && inp.ramp !== undefined) {
    const r = inp.ramp(skey, s.host, s.port)
    const round = (v: number): number => Math.round(v * 1000) / 1000
    out.slow_start = r === undefined ? { factor: 1, weight: s.weight, until: null }
      : { factor: round(r.factor), weight: round(s.weight * r.factor), until: r.until / 1000 }
  }
  const oks = out['ok_num']
  if (ups.rise !== undefined && ups.rise > 1 && typeof oks === 'number') {
    delete out['ok_num']
    out.rise = { ok: oks, needed: ups.rise }
  }
}

function peerStatus(inp: StatusInput, skey: string, s: ResolvedServer, hbOn: boolean, ups: ResolvedUpstream): PeerStatus {
  const rec = decodeRecord<HeartbeatRecord>(asBytes(inp.zones.state.get(KEY.peerStatus(skey, s.host, s.port))))
  const { lastmodified: _lm, up_since: _up, ...hb } = rec ?? ({} as Partial<HeartbeatRecord>)
  const out: PeerStatus = { ...hb, server: `${skey}:${s.host}:${s.port}`, status: 'ok',
    weight: s.weight, max_fails: s.max_fails, fail_timeout: s.fail_timeout }
  out.status = !hbOn ? 'unchecked' : STATUS_NAMES[rec?.status ?? STATUS_OK] ?? 'ok'
  if (typeof rec?.lastmodified === 'number') out.lastmodified = localtime(rec.lastmodified * 1000)
  const p = readPassive(inp.zones.state, skey, s.host, s.port)
  if (p !== undefined) {
    const err = p.status === STATUS_ERR && p.since + s.fail_timeout * 1000 > inp.now
    out.passive = { status: err ? 'err' : 'ok', count: p.count, since: p.since / 1000 }
  }
  loadFields(inp, skey, ups, s, out)
  if (s.dns_name !== undefined && inp.dnsOf !== undefined) out.dns = dnsOfPeer(inp, s.dns_name)
  return out
}

/** A resolved peer's `dns`: from the names' records read once for the status, else read now. */
function dnsOfPeer(inp: StatusInput, name: string): DnsView {
  const d = inp.dns?.[name]
  return d === undefined ? inp.dnsOf!(name) : { name: d.name, addresses: [...d.addresses], age: d.age, stale: d.stale }
}

function upstreamStatus(inp: StatusInput, skey: string, ups: ResolvedUpstream): Status[`cls:${string}`] {
  const hbOn = heartbeatEnabled(ups, inp.defaultHeartbeat)
  const levels = levelEntries(ups).map(([key, l]) => [key, l.servers.map((s) => peerStatus(inp, skey, s, hbOn, ups))] as const)
  if (Array.isArray(ups.cluster)) return levels.map(([, peers]) => peers)
  return Object.fromEntries(levels)
}

export function buildStatus(inp: StatusInput): Status {
  const { state, mutex } = inp.zones
  const out = {} as Status
  for (const [skey, ups] of Object.entries(inp.upstreams)) out[`cls:${skey}`] = upstreamStatus(inp, skey, ups)
  const lct = state.get(KEY.LAST_CHECK_TIME)
  out.last_check_time = typeof lct === 'string' ? lct : null
  out.checkup_timer_alive = state.get(KEY.TIMER_ALIVE) === true
  const st = state.get(KEY.START_TIME)
  out.start_time = typeof st === 'string' ? st : null
  out.conf_hash = inp.confHash
  out.shd_config_version = inp.shdConfigVersion
  out.config_timer = {}
  for (let i = 0; i < inp.workerCount; i++) {
    out.config_timer[`worker-${i}`] = state.get(KEY.configTimer(i)) !== undefined ? 'alive' : 'dead'
  }
  out.state_write_errors = {
    heartbeat: state.loadSlot(SLOT.STATE_HEARTBEAT_WRITE_ERRORS),
    passive: state.loadSlot(SLOT.STATE_PASSIVE_WRITE_ERRORS),
  }
  const lease = decodeRecord<{ worker: number; pid: number; since: number }>(asBytes(mutex.get(KEY.HEARTBEAT_LEASE)))
  if (lease !== undefined) out.heartbeat_leader = { worker: lease.worker, pid: lease.pid, since: lease.since }
  const round = decodeRecord<{ runner: 'thread' | 'in-process'; peers: number; ms: number }>(asBytes(state.get(KEY.HEARTBEAT_ROUND)))
  if (round !== undefined) out.heartbeat_round = { runner: round.runner, peers: round.peers, ms: round.ms }
  const cluster = readClusterStatus(inp.zones.config)
  if (cluster !== undefined) out.cluster_store = cluster
  if (inp.dns !== undefined) out.dns = inp.dns
  return out
}
