/**
 * Resolved config types: what `resolveConfig` returns, deep-frozen, no optional fields
 * (an absent optional value is `null`). Keys are the original's, snake_case.
 */
export type Mode = 'wrr' | 'hash' | 'url_hash' | 'ip_hash' | 'header_hash' | 'least_conn' | 'p2c'
export type UpstreamTyp = 'general' | 'redis' | 'mysql' | 'http'

/** A custom heartbeat from the config module. Functions never enter shm. */
export type HeartbeatFn = (host: string, port: number, ups: ResolvedUpstream) => unknown

export interface ResolvedServer {
  readonly host: string
  readonly port: number
  readonly weight: number
  readonly max_fails: number
  readonly fail_timeout: number
  /** in-flight attempts (all workers) beyond which the peer is skipped; absent = no limit */
  readonly max_conns?: number
  /** out of rotation until undone (absent = false) */
  readonly down?: boolean
  /** no new requests; the ones in flight finish (absent = false) */
  readonly drain?: boolean
  /**
   * Set only on the peers a worker view derives from a hostname (global.dns): the name this
   * address was resolved from. Never stored in the config zone, never accepted as input.
   */
  readonly dns_name?: string
}

export interface ResolvedLevel {
  readonly servers: readonly ResolvedServer[]
  /** name of an nginx `upstream` block feeding this level, or null */
  readonly upstream: string | null
  readonly upstream_only_backup: boolean
  readonly upstream_skip_down: boolean
}

/** An array of levels (level n = index n-1) or named clusters in definition order. */
export type ResolvedCluster = readonly ResolvedLevel[] | Readonly<Record<string, ResolvedLevel>>

export interface ResolvedHttpOpts {
  readonly query: string | null
  readonly statuses: Readonly<Record<string, boolean>> | null
}

/** `outlier_detection` (balancer/outlier.ts): counters off unless set; seconds; percent */
export interface ResolvedOutlierDetection {
  readonly consecutive_5xx?: number
  readonly consecutive_gateway_failure?: number
  readonly consecutive_local_origin_failure?: number
  readonly base_ejection_time: number
  readonly max_ejection_time: number
  readonly max_ejection_percent: number
}

export interface ResolvedUpstream {
  /** heartbeat enabled; null = follow global.default_heartbeat_enable */
  readonly enable: boolean | null
  readonly typ: UpstreamTyp
  readonly timeout: number
  readonly read_timeout: number | null
  readonly send_timeout: number | null
  readonly http_opts: ResolvedHttpOpts | null
  readonly mode: Mode
  readonly protected: boolean
  /** = `fall` when given: consecutive failed checks before a peer is marked down */
  readonly sensibility: number
  /** consecutive successful checks before a down peer is ok again; absent = 1 (the original) */
  readonly rise?: number
  /** seconds a recovered or added peer's weight ramps from 10 % to 100 %; absent = none */
  readonly slow_start?: number
  /** ejection of peers by consecutive failures (balancer/outlier.ts); absent = off */
  readonly outlier_detection?: ResolvedOutlierDetection
  /** percent: when fewer of a level's peers are usable, all of them are used (panic); absent = off */
  readonly panic_threshold?: number
  /** share of in-flight attempts that may be retries, with a floor; absent = no budget */
  readonly retry_budget?: { readonly ratio: number; readonly min_concurrency: number }
  readonly try: number | null
  readonly try_timeout: number | null
  readonly name: string | null
  readonly user: string | null
  readonly pass: string | null
  readonly charset: string | null
  readonly heartbeat: HeartbeatFn | null
  /** how the proxy and the http probe talk to the peers */
  readonly scheme: 'http' | 'https'
  readonly tls: ResolvedUpstreamTls | null
  readonly cluster: ResolvedCluster
}

export interface ResolvedUpstreamTls {
  readonly servername: string | null
  readonly ca: string | null
  readonly cert: string | null
  readonly key: string | null
  readonly reject_unauthorized: boolean
}

export interface ResolvedGlobal {
  readonly checkup_timer_interval: number
  readonly checkup_timer_overtime: number
  readonly default_heartbeat_enable: boolean
  /** heartbeat probing on a piscina thread: `auto` = from `heartbeat_thread_peers` peers on */
  readonly heartbeat_thread: 'auto' | boolean
  /** peers from which `heartbeat_thread: 'auto'` probes on the thread (default 500) */
  readonly heartbeat_thread_peers: number
  readonly checkup_shd_sync_enable: boolean
  readonly shd_config_timer_interval: number
  readonly ups_status_sync_enable: boolean
  readonly ups_status_timer_interval: number
  readonly conf_hash: string | null
  /** path of an nginx.conf whose `upstream` blocks feed levels (absolute once resolved) */
  readonly nginx_conf: string | null
  /** resolve servers' hostnames (dns/); absent = hosts are used as written */
  readonly dns?: ResolvedDns
  /** the shared Redis store of a fleet of nodes (absent: this node works alone) */
  readonly cluster_store?: ResolvedClusterStore
}

/** `global.dns`: resolver `ip[:port]` (null = the system's), TTL bounds in seconds. */
export interface ResolvedDns {
  readonly resolver: string | null
  readonly min_ttl: number
  readonly max_ttl: number
}

export interface ResolvedClusterStore {
  readonly redis: string | { readonly sentinels: ReadonlyArray<{ readonly host: string; readonly port: number }>; readonly name: string }
  readonly namespace: string
  readonly tls: boolean
  readonly username: string | null
  readonly password: string | null
}

export interface ResolvedConfig {
  readonly global: ResolvedGlobal
  readonly upstreams: Readonly<Record<string, ResolvedUpstream>>
  /** global.conf_hash, or a stable hash of the upstream configs */
  readonly conf_hash: string
}
