/**
 * The dynamic-upstream operations of a Checkups instance (`checkups.dynamic`): whole
 * upstreams, one server at a time, dry runs, and the primary's reload. Each write answers
 * the new config version; `ifMatch` refuses a write based on another version.
 *
 * Invariants: everything goes through the one writer (dynamic/writer.ts); per-server
 * operations are built from the stored upstream under the lock, so concurrent operations on
 * one upstream from any workers are applied one after the other and none is lost.
 * With `global.cluster_store` (useStore): writes go to the store first (cluster/remote.ts,
 * built from the store's copy, `ifMatch` = the upstream's store revision) and this node's
 * primary applies them through the same writer; they resolve once applied here.
 */
import type { ResolvedConfig, ResolvedServer, ResolvedUpstream } from '../config/types.js'
import { forEachServer } from '../config/walk.js'
import { CheckupsError } from '../errors.js'
import { dnsKey } from '../dns/record.js'
import type { WorkerView } from '../view/worker-view.js'
import type { InflightCounter } from './inflight.js'
import type { Dropped } from './reconcile.js'
import { type ServerPatch, type ServerPlace, addServer, patchServer, removeServer } from './servers.js'
import type { DynamicWriter, WriteOptions } from './writer.js'
import { type NextUpstream, deleteNext, modifyNext, updateNext } from './build.js'
import type { RemoteWrites, StoreWrite } from '../cluster/remote.js'

export type { ServerPatch, ServerPlace, WriteOptions, Dropped }

/** A server as `GET /upstreams/:skey/servers` shows it. */
export interface ServerState extends ResolvedServer {
  /** level number (1-based) or cluster name */
  readonly cluster: string | number
  /** `draining` while a drained server still has requests in flight */
  readonly state: 'up' | 'down' | 'draining' | 'drained'
  /** a drained server some worker may still have a request in flight to */
  readonly busy: boolean
}

/** A write's options; `onStore` is told the store write when `global.cluster_store` is configured. */
export interface ApiWriteOptions extends WriteOptions {
  onStore?(r: StoreWrite): void
}

export class DynamicApi {
  #remote: RemoteWrites | undefined

  constructor(
    private readonly writer: DynamicWriter,
    private readonly view: () => WorkerView,
    private readonly inflight: () => InflightCounter | undefined,
    private readonly versionOf: () => number,
    /** told of every acknowledged write (statistics' config events); returns the version */
    private readonly changed: (version: number, op: 'update' | 'delete', skey: string) => number = (v) => v,
  ) {}

  /** The config version every worker converges to (`config_version`). */
  version(): number {
    return this.versionOf()
  }

  /** Worker: writes go to the cluster store first (undefined: this node alone). */
  useStore(remote: RemoteWrites | undefined): void {
    this.#remote = remote
  }

  /** The store revision of `skey` applied here (cluster store only; else undefined). */
  storeRevision(skey: string): number | undefined {
    return this.#remote?.revision(skey)
  }

  get clustered(): boolean {
    return this.#remote !== undefined
  }

  async update(skey: string, upstream: unknown, opts?: ApiWriteOptions): Promise<number> {
    const remote = this.#remote
    if (remote) {
      return this.viaStore(skey, opts, updateNext(skey, upstream, remote.heartbeat(skey)))
    }
    return this.changed(await this.writer.update(this.view(), skey, upstream, opts), 'update', skey)
  }

  async delete(skey: string, opts?: ApiWriteOptions): Promise<number> {
    if (this.#remote) return this.viaStore(skey, opts, deleteNext(skey))
    return this.changed(await this.writer.delete(this.view(), skey, opts), 'delete', skey)
  }

  /**
   * Primary (cluster/node.ts): the store's upstreams made current (`replace`: the whole set).
   * A single change is the node's config event (the writing worker records none of its own).
   */
  async applyRemote(changes: Readonly<Record<string, unknown>>, replace: boolean): Promise<number> {
    const version = await this.writer.applyRemote(changes, replace)
    const [skey, one] = Object.entries(changes)[0] ?? []
    if (!replace && skey !== undefined && Object.keys(changes).length === 1) this.changed(version, one === null ? 'delete' : 'update', skey)
    return version
  }

  private modify(skey: string, opts: ApiWriteOptions | undefined, fn: (stored: ResolvedUpstream) => Record<string, unknown>): Promise<number> {
    if (this.#remote) {
      return this.viaStore(skey, opts, modifyNext(skey, fn))
    }
    return this.writer.modify(this.view(), skey, opts ?? {}, fn).then((v) => this.changed(v, 'update', skey))
  }

  private async viaStore(skey: string, opts: ApiWriteOptions | undefined, build: NextUpstream): Promise<number> {
    const r = await this.#remote!.write(skey, opts?.ifMatch, build)
    opts?.onStore?.(r)
    this.view().sync()
    return this.versionOf()
  }

  /** The upstream `update(skey, upstream)` would store; nothing is changed. */
  validate(skey: string, upstream: unknown): ResolvedUpstream {
    return this.writer.dryRun(this.view(), skey, upstream)
  }

  addServer(skey: string, server: Record<string, unknown>, place: ServerPlace = {}, opts?: ApiWriteOptions): Promise<number> {
    return this.modify(skey, opts, (ups) => addServer(skey, ups, server, place))
  }

  patchServer(skey: string, host: string, port: number, patch: ServerPatch, opts?: ApiWriteOptions): Promise<number> {
    return this.modify(skey, opts, (ups) => patchServer(skey, ups, host, port, patch))
  }

  removeServer(skey: string, host: string, port: number, opts?: ApiWriteOptions): Promise<number> {
    return this.modify(skey, opts, (ups) => removeServer(skey, ups, host, port))
  }

  /** Every server of `skey` with its runtime state; CKP_ERR_UPSTREAM_NOT_FOUND if none. */
  servers(skey: string): ServerState[] {
    const view = this.view().get(skey)
    const ups = view?.ups
    if (!view || !ups) throw new CheckupsError('CKP_ERR_UPSTREAM_NOT_FOUND', `upstream ${skey} not found`)
    const counter = this.inflight()
    const version = this.versionOf()
    const out: ServerState[] = []
    forEachServer(ups, (s, cluster) => {
      // a server given by hostname (global.dns) is busy while any of its addresses is
      const hosts = ups === view.served ? [s.host] : addressesOf(view.served, s.host, s.port)
      const busy = s.drain === true && counter !== undefined && hosts.some((h) => counter.busy(skey, h, s.port, version))
      const state = s.drain ? (busy ? 'draining' : 'drained') : s.down ? 'down' : 'up'
      out.push({ ...s, cluster, state, busy })
    })
    return out
  }

  /** Primary: make a new file config current, keeping what the reload rule keeps. */
  reload(cfg: ResolvedConfig): Promise<{ version: number; dropped: Dropped[] }> {
    return this.writer.reload(cfg)
  }
}

/** The hosts `host:port` of the configured upstream is served as (its addresses, or itself). */
function addressesOf(served: ResolvedUpstream, host: string, port: number): string[] {
  const name = dnsKey(host)
  const out = new Set<string>([host])
  forEachServer(served, (s) => { if (s.port === port && s.dns_name === name) out.add(s.host) })
  return [...out]
}
