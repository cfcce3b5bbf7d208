/**
 * Every shared-dict key and counter slot checkups uses — the one place to look.
 *
 * Zones: `state` (health), `mutex` (leases), `locks` (resty.lock keys),
 * `config` (upstream configs). Key strings are the original's where it had one.
 *
 * Invariants
 * - `config` zone: `shd_config:<skey>` (msgpackr upstream), `checkups:skeys` (msgpackr string[]),
 *   `config_version` (number) are written only under the `checkups:skeys` lock (in `locks`);
 *   a writer writes the upstream(s), then the skeys list, then bumps `config_version` AND
 *   the CONFIG_VERSION slot — readers that see the new slot value see the new data.
 * - `state` zone: heartbeat records `checkups:peer_status:<skey>:<host>:<port>` are written
 *   only by the heartbeat leader; passive records `checkups:passive:<skey>:<host>:<port>`
 *   by any worker (under the zone lock, read-modify-write via the dict). After a heartbeat
 *   round (or any record flip) the writer bumps STATE_HEARTBEAT_VERSION; after a passive
 *   record changes its err window it bumps STATE_PASSIVE_VERSION. Worker views cache both
 *   and refresh when the slot moves (one Atomics.load per select).
 *   Health records are stored with `safeSet`, never evicting one another (an evicted
 *   record would read as ok); a write that does not fit adds 1 to
 *   STATE_HEARTBEAT_WRITE_ERRORS / STATE_PASSIVE_WRITE_ERRORS (shown in getStatus).
 * - statistics zone (`checkups_stats`, raw shared memory, not a dict; layout in stats/layout.ts):
 *   per-peer counter slots written by every worker with Atomics, the event ring (any writer,
 *   numbered), one process-metrics block per process (written only by that process).
 * - `config` zone, DNS (dns/record.ts): `checkups:dns:<name>` (msgpackr DnsRecord: the addresses
 *   of a server hostname, their age, stale flag, failures) and `checkups:dns_names` (msgpackr
 *   string[]: the names published) are written only by the heartbeat leader's DnsRefresher,
 *   record first, then the names list; when a record's addresses change it then bumps
 *   CONFIG_DNS_VERSION, and worker views re-derive the peers of the upstreams naming it.
 * - `mutex` zone: `checkups:heartbeat_lease` → msgpackr `{ worker, pid, since }`, TTL
 *   `checkup_timer_overtime`; removed by the primary when its holder dies.
 */

/** Counter slots of the zone header (SharedDict.loadSlot/addSlot/storeSlot). */
export const SLOT = {
  /** config zone: mirror of `config_version` */
  CONFIG_VERSION: 0,
  /** config zone: bumped when the published addresses of some DNS name changed */
  CONFIG_DNS_VERSION: 1,
  /** config zone: the cluster store version this node has applied (cluster/published.ts) */
  CONFIG_CLUSTER_APPLIED: 2,
  /** state zone: bumped after each heartbeat round / record flip */
  STATE_HEARTBEAT_VERSION: 0,
  /** state zone: bumped when a passive record starts or ends an err window */
  STATE_PASSIVE_VERSION: 1,
  /** state zone: heartbeat records / round keys that did not fit (safeSet `no memory`), ever */
  STATE_HEARTBEAT_WRITE_ERRORS: 2,
  /** state zone: passive records that did not fit (safeSet `no memory`), ever */
  STATE_PASSIVE_WRITE_ERRORS: 3,
} as const

export const KEY = {
  // config zone
  SKEYS: 'checkups:skeys',
  CONFIG_VERSION: 'config_version',
  shdConfig: (skey: string) => `shd_config:${skey}`,
  /** config zone: the config hash of the boot config (global.conf_hash or computed) */
  CONF_HASH: 'checkups:conf_hash',
  /** locks zone: the lock key writers hold (value: the holder's pid) */
  SKEYS_LOCK: 'checkups:skeys',
  /** config zone: which upstreams carry a runtime change, and on what file config (dynamic/meta.ts) */
  DYNAMIC_META: 'checkups:dynamic_meta',
  /** config zone: version → skey of the recent single-upstream writes (config/changes.ts) */
  CONFIG_CHANGES: 'checkups:config_changes',
  /** config zone: the node's cluster-store link (cluster/published.ts; written by the primary only, not config) */
  CLUSTER_STATUS: 'checkups:cluster_status',
  /** config zone: the resolved addresses of one server hostname (dns/record.ts) */
  dns: (name: string) => `checkups:dns:${name}`,
  /** config zone: the names the DNS refresher publishes (dns/record.ts) */
  DNS_NAMES: 'checkups:dns_names',

  // state zone
  peerStatus: (skey: string, host: string, port: number) => `checkups:peer_status:${skey}:${host}:${port}`,
  passive: (skey: string, host: string, port: number) => `checkups:passive:${skey}:${host}:${port}`,
  LAST_CHECK_TIME: 'checkups:last_check_time',
  TIMER_ALIVE: 'checkups:checkup_timer_alive',
  START_TIME: 'checkups:start_time',
  /**
   * state zone: msgpackr `{ runner: 'thread' | 'in-process', peers, ms }` of the last committed
   * heartbeat round (written by the leader with the round keys; shown in getStatus)
   */
  HEARTBEAT_ROUND: 'checkups:heartbeat_round',
  /** state zone: `checkups:config_timer:<worker-id>` = true with TTL (sync-timer liveness) */
  configTimer: (workerId: number) => `checkups:config_timer:${workerId}`,

  /** state zone: requests in flight to a drained peer from one worker id (dynamic/inflight.ts) */
  inflight: (workerId: number, skey: string, host: string, port: number) => `checkups:inflight:${workerId}:${skey}:${host}:${port}`,
  /** state zone: the config version a worker id's view last took in (dynamic/inflight.ts) */
  seenConfig: (workerId: number) => `checkups:inflight:${workerId}:seen_config`,

  // mutex zone
  HEARTBEAT_LEASE: 'checkups:heartbeat_lease',
} as const

/** locks zone: short spin lock serialising passive-record read-modify-writes of one skey */
export const passiveLockKey = (skey: string): string => `checkups:passive_lock:${skey}`
