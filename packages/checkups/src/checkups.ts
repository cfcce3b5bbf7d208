/**
 * The Checkups facade: wires config store, worker view, try engine, passive
 * accounting, status, dynamic upstreams, heartbeat and the sync backstop timer.
 *
 * Lifecycle: primary → `init(config)` (seeds the config zone), `onWorkerExit(pid)`;
 * worker → `prepareChecker(config)`, `createChecker()`, then the request API; `stop()`.
 * Invariants: every request-path call syncs the worker view first (three plain slot reads when nothing changed);
 * dynamic writes go through the one writer (dynamic/writer.ts: under the `checkups:skeys`
 * lock, persisted, then installed in the calling worker's view) before resolving; every
 * readyOk attempt is counted in flight (dynamic/inflight.ts, what `drain` waits for).
 */
import type { SharedDict } from '@checkups/shdict'
import { type Clock, systemClock } from './clock.js'
import { Observer, type PeerStats } from './stats/index.js'
import { isResolvedConfig, resolveConfig } from './config/resolve.js'
import { ConfigStore, type LockFactory } from './config/store.js'
import type { HeartbeatFn, ResolvedConfig, ResolvedUpstream } from './config/types.js'
import { findServer } from './config/walk.js'
import { DynamicApi, type WriteOptions } from './dynamic/api.js'
import { InflightCounter } from './dynamic/inflight.js'
import { PidLock, releaseDeadHolder } from './dynamic/lock.js'
import { emptyMeta, encodeMeta, fileHashes } from './dynamic/meta.js'
import { DynamicWriter } from './dynamic/writer.js'
import { CheckupsError } from './errors.js'
import { KEY, SLOT } from './keys.js'
import { PassiveAccounting } from './passive/accounting.js'
import type { Persistence, StateSnapshot } from './persist/types.js'
import { type SharedZones, type Logger, type WorkerInfo, ZONE_NAMES, silentLogger } from './zone-types.js'
import { type Status, buildStatus } from './status.js'
import { localtime } from './time.js'
import { type ReadyOkCallback, type ReadyOkOptions, type TryEnv, readyOk } from './try/ready-ok.js'
import type { AttemptRecorder } from './try/report.js'
import { type SelectOptions, selectPeer } from './try/select.js'
import type { PeerResult, UpstreamView } from './view/upstream-view.js'
import { WorkerView } from './view/worker-view.js'
import { type NginxPeers, NginxUpstreams } from './nginx/upstreams.js'
import { SyncTimer } from './sync-timer.js'
import { remoteWritesFor } from './cluster/remote.js'
import { HeartbeatHost } from './heartbeat/host.js'
import { LoadBoard } from './balancer/load.js'
import type { Dispatcher } from 'undici'
import { DnsHost } from './dns/host.js'
import { dnsNameOf } from './dns/expand.js'
import { createDispatcher, createInterceptor, type DispatcherOptions } from './clients/dispatcher.js'
import { createRedisClient, type RedisClient, type RedisClientOptions } from './clients/redis.js'
import { type CheckupsMysql, createMysqlClient, type MysqlClientOptions } from './clients/mysql.js'

export interface CheckupsOptions {
  shared: SharedZones<SharedDict>
  worker?: WorkerInfo
  clock?: Clock
  logger?: Logger
  persistence?: Persistence
  /** seconds to wait for the `checkups:skeys` lock (resty.lock timeout, default 5) */
  lockTimeout?: number
  /** directory a relative `global.nginx_conf` is resolved against (default: process.cwd()) */
  configDir?: string
  /** count readyOk attempts in flight (default true): what `drain` waits for (dynamic/inflight.ts) */
  countInflight?: boolean
  /** called with every attempt outcome readyOk accounts (besides the built-in per-peer statistics) */
  onAttempt?: AttemptRecorder
  /** the statistics zone (STATS_ZONE_BYTES of shared memory; default: a private buffer) */ stats?: SharedArrayBuffer
}

export interface InitOptions {
  /** a persisted snapshot (persist/loadStateFile) to apply instead of the config's upstreams */
  restore?: StateSnapshot | undefined
}

function toResolved(config: unknown): ResolvedConfig {
  return isResolvedConfig(config) ? config : resolveConfig(config)
}

function customHeartbeats(cfg: ResolvedConfig): Map<string, HeartbeatFn> {
  const m = new Map<string, HeartbeatFn>()
  for (const [skey, ups] of Object.entries(cfg.upstreams)) if (ups.heartbeat) m.set(skey, ups.heartbeat)
  return m
}

export class Checkups {
  readonly zones: SharedZones<SharedDict>
  readonly worker: WorkerInfo
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly store: ConfigStore
  private readonly passive: PassiveAccounting
  private readonly nginx: NginxUpstreams
  private readonly writer: DynamicWriter
  private inflight: InflightCounter | undefined
  private readonly countInflight: boolean
  /** dynamic upstreams: whole upstreams, per-server operations, dry runs, reload */
  readonly dynamic: DynamicApi
  private local: ResolvedConfig | undefined
  private heartbeats = new Map<string, HeartbeatFn>()
  private view: WorkerView | undefined
  private readonly syncTimer: SyncTimer
  private readonly hb: HeartbeatHost
  private readonly dns: DnsHost // global.dns: hostnames resolved by the leader, published for all
  private readonly tryEnv: TryEnv
  readonly observer: Observer
  private readonly board: LoadBoard // shared in-flight counts + latency costs (load-aware balancing)

  constructor(opts: CheckupsOptions) {
    for (const z of ZONE_NAMES) {
      if (!opts.shared?.[z]) throw new CheckupsError('CKP_ERR_SETUP', `shared zone "${z}" is missing`)
    }
    this.zones = opts.shared
    this.worker = opts.worker ?? { id: 0, count: 1, pid: process.pid }
    this.clock = opts.clock ?? systemClock
    this.logger = opts.logger ?? silentLogger
    this.countInflight = opts.countInflight ?? true
    const timeout = opts.lockTimeout ?? 5
    const newLock: LockFactory = (d) => new PidLock(d, { timeout, pid: this.worker.pid })
    this.store = new ConfigStore(this.zones.config, this.zones.locks, newLock)
    this.observer = new Observer(opts.stats, this.logger, () => this.clock.now())
    const heartbeat = (skey: string): HeartbeatFn | null => this.heartbeats.get(skey) ?? null
    this.writer = new DynamicWriter({ store: this.store, state: this.zones.state, logger: this.logger, persistence: opts.persistence, heartbeat })
    this.dynamic = new DynamicApi(this.writer, () => this.requireView(), () => this.inflight, () => this.store.version(),
      (version, op, upstream) => this.observer.configChanged({ version, op, upstream }))
    this.board = new LoadBoard(this.observer.zone, () => this.clock.now(), () => this.zones.state.addSlot(SLOT.STATE_PASSIVE_VERSION, 1))
    this.passive = new PassiveAccounting(this.zones.state, this.zones.locks, this.clock, this.logger, this.observer.passiveWindow)
    this.tryEnv = { clock: this.clock, passive: this.passive, ...this.observer.funnelHooks(opts.onAttempt) }
    this.nginx = new NginxUpstreams(opts.configDir ?? process.cwd())
    this.syncTimer = new SyncTimer(this.zones.state, this.clock, this.worker.id, () => this.view?.sync())
    this.dns = new DnsHost(this.zones.config, this.clock, this.logger, () => this.view?.upstreams() ?? {})
    this.hb = new HeartbeatHost(this.zones, this.clock, this.worker, this.logger, () => this.view?.served() ?? {}, () => this.heartbeats,
      this.observer.onRound, (leader) => this.dns.onLeadership(leader))
  }

  /** Primary (init_by_lua): validates `config` and seeds the config zone. */
  init(config: unknown, opts: InitOptions = {}): ResolvedConfig {
    const cfg = this.expand(toResolved(config))
    this.heartbeats = customHeartbeats(cfg)
    this.writer.seed(cfg, opts.restore)
    this.zones.state.set(KEY.START_TIME, localtime(this.clock.now()))
    return cfg
  }

  /** Primary (reload): `config`'s upstreams, with the runtime changes dynamic/reconcile.ts keeps. */
  async reload(config: unknown): Promise<ResolvedConfig> {
    const cfg = this.expand(toResolved(config))
    this.heartbeats = customHeartbeats(cfg)
    await this.writer.reload(cfg)
    return cfg
  }

  /** Worker (init_worker_by_lua): builds this worker's view from the config zone. */
  prepareChecker(config: unknown): ResolvedConfig {
    const cfg = this.expand(toResolved(config))
    this.local = cfg
    this.heartbeats = customHeartbeats(cfg)
    this.store.seedIfEmpty(cfg.upstreams, cfg.conf_hash, encodeMeta(emptyMeta(fileHashes(cfg.upstreams))))
    this.zones.state.add(KEY.START_TIME, localtime(this.clock.now()))
    const counting = this.countInflight ? InflightCounter.start(this.zones.state, this.worker) : undefined
    this.inflight = counting?.counter
    this.view = new WorkerView(this.zones, this.store, this.clock, cfg, this.heartbeats, this.board, counting?.onConfig)
    this.view.sync()
    this.dns.start(cfg)
    this.dynamic.useStore(remoteWritesFor(cfg, this.zones.config, this.logger, (skey) => this.heartbeats.get(skey) ?? null))
    return cfg
  }

  /** Worker: starts the sync backstop timer and the heartbeat candidacy. */
  createChecker(): void {
    const cfg = this.requireLocal()
    if (cfg.global.checkup_shd_sync_enable) {
      this.syncTimer.start(cfg.global.shd_config_timer_interval, cfg.global.checkup_timer_overtime)
    }
    this.hb.start(cfg)
  }

  /** Clears timers and leaves the heartbeat (graceful stop / reload); a leader frees its lease. */
  stop(): Promise<void> {
    this.syncTimer.stop()
    return this.hb.stop().then(() => this.dns.stop())
  }

  /** Primary: a worker died — free the heartbeat lease (true if it held it) and the writers' lock it held. */
  onWorkerExit(pid: number): boolean {
    if (releaseDeadHolder(this.zones.locks, KEY.SKEYS_LOCK, pid)) this.logger.warn({ deadPid: pid }, 'config lock of a dead worker freed')
    return this.hb.releaseLease(pid)
  }

  /** Worker: the primary says another worker exited (its lease released): a candidate tries for the lease now. */
  onPeerWorkerExit(): void { this.hb.contend() }

  /** True when this worker currently runs the heartbeat. */
  isHeartbeatLeader(): boolean { return this.hb.isLeader() }

  readyOk<T>(skey: string, cb: ReadyOkCallback<T>, opts?: ReadyOkOptions): Promise<T> {
    let u: UpstreamView
    try {
      u = this.upstreamView(skey)
    } catch (err) {
      return Promise.reject(err)
    }
    return readyOk(this.tryEnv, u, this.inflight ? this.inflight.counted(skey, cb) : cb, opts)
  }

  selectPeer(skey: string, opts?: SelectOptions): PeerResult {
    return selectPeer(this.clock, this.passive, this.upstreamView(skey), opts)
  }

  getStatus(): Status {
    const view = this.requireView()
    const cfg = this.requireLocal()
    const now = this.clock.now()
    return buildStatus({
      zones: this.zones, upstreams: view.served(), defaultHeartbeat: cfg.global.default_heartbeat_enable,
      confHash: cfg.global.conf_hash, shdConfigVersion: view.shdConfigVersion,
      workerCount: this.worker.count, now, load: (k, h, p) => this.board.peer(k, h, p),
      dns: this.dns.status(now), dnsOf: (name) => this.dns.view(name, now), ramp: (k, h, p) => view.get(k)?.ramp(h, p, now),
    })
  }

  /** `[connect, send, read]` timeouts in seconds (the original's get_ups_timeout). */
  getUpsTimeout(skey: string): [connect: number, send: number, read: number] | undefined {
    const ups = this.requireView().get(skey)?.ups
    if (!ups) return undefined
    return [ups.timeout, ups.send_timeout ?? ups.timeout, ups.read_timeout ?? ups.timeout]
  }

  /** Per-peer statistics (shared memory, the same from every worker): `{ skey: { 'host:port': PeerStats } }`. */
  getStats(skey?: string): Record<string, Record<string, PeerStats>> { return this.observer.upstreams(this.requireView().served(), skey) }

  feedbackStatus(skey: string, host: string, port: number, failed: boolean, cause: 'passive' | 'admin' = 'passive'): void {
    const u = this.upstreamView(skey)
    const srv = findServer(u.served, host, Number(port))
    if (srv === undefined) throw new CheckupsError('CKP_ERR_UNKNOWN_PEER', `unknown host:port${host}:${port}`)
    this.passive.report(skey, u.ups, srv, failed, cause)
    this.view?.sync()
  }

  /**
   * Runs a heartbeat round now if this worker holds the heartbeat lease (resolves true once it
   * is written), else does nothing (false). For backends that come up with the workers
   * themselves, e.g. apps/server's demo: `await ctx.checkups.checkNow()` once they listen.
   */
  async checkNow(): Promise<boolean> {
    return this.hb.checkNow()
  }

  /** The hostname `host` (an address of `skey`) was resolved from (global.dns), for TLS's server name; else undefined. */
  dnsNameOf(skey: string, host: string): string | undefined { const u = this.view?.get(skey); return u && dnsNameOf(u.served, host) }

  /** With global.dns, on the heartbeat leader: looks every server hostname up now and publishes (true); else false. */
  checkDnsNow(): Promise<boolean> { return this.dns.checkNow() }

  /** Stores `upstream` under `skey` (the original's update_upstream rules); the new version. */
  updateUpstream(skey: string, upstream: unknown, opts?: WriteOptions): Promise<number> { return this.dynamic.update(skey, upstream, opts) }

  deleteUpstream(skey: string, opts?: WriteOptions): Promise<number> { return this.dynamic.delete(skey, opts) }

  getUpstream(): Record<string, ResolvedUpstream>
  getUpstream(skey: string): ResolvedUpstream | undefined
  getUpstream(skey?: string): ResolvedUpstream | Record<string, ResolvedUpstream> | undefined {
    const view = this.requireView()
    if (skey === undefined) return view.upstreams()
    return view.get(skey)?.ups
  }

  /** Peers of an nginx `upstream NAME { ... }` block of `global.nginx_conf`, `down` kept in sync. */
  getUpstreamPeers(name: string): NginxPeers | undefined {
    const cfg = this.local
    if (!cfg) return undefined
    const sync = cfg.global.ups_status_sync_enable
    return this.nginx.peers(cfg.global.nginx_conf, name, (n, host, port) => (sync ? this.hb.peerDown(n, host, port) : undefined))
  }

  /** An undici Dispatcher balancing requests to upstream names (clients/dispatcher.ts). */
  dispatcher(opts?: DispatcherOptions): Dispatcher { return createDispatcher(this, opts) }
  /** The same as an interceptor for `agent.compose(...)`. */
  interceptor(opts?: Omit<DispatcherOptions, 'fallback' | 'pool'>): Dispatcher.DispatcherComposeInterceptor { return createInterceptor(this, opts) }
  /** An ioredis-style client over the peers of `skey` (clients/redis.ts). */
  redis(skey: string, opts?: RedisClientOptions): RedisClient { return createRedisClient(this, skey, opts) }
  /** A mysql2 promise pool over the peers of `skey` (clients/mysql.ts). */
  mysql(skey: string, opts?: MysqlClientOptions): CheckupsMysql { return createMysqlClient(this, skey, opts) }

  /** The resolved config this worker was prepared with. */
  get config(): ResolvedConfig | undefined { return this.local }

  private expand(cfg: ResolvedConfig): ResolvedConfig { return this.nginx.expand(cfg) }

  private upstreamView(skey: string): UpstreamView {
    const u = this.requireView().get(skey)
    if (!u) throw new CheckupsError('CKP_ERR_UNKNOWN_SKEY', `unknown skey ${skey}`)
    return u
  }

  private requireView(): WorkerView {
    if (!this.view) throw new CheckupsError('CKP_ERR_SETUP', 'prepareChecker(config) has not been called')
    return this.view
  }

  private requireLocal(): ResolvedConfig {
    if (!this.local) throw new CheckupsError('CKP_ERR_SETUP', 'prepareChecker(config) has not been called')
    return this.local
  }
}
