/**
 * Structural types of the heartbeat: what it needs from a resolved upstream, from a shared
 * dict, from a logger. The core's `ResolvedUpstream` and `SharedDict` satisfy them, so this
 * module depends on neither (and runs unchanged inside a piscina thread).
 */
import type { PeerStatusCode } from '../records.js'

/** A custom heartbeat: status number or `{ status, msg?, ...extras }`. */
export type HeartbeatFn = {
  // bivariant parameter: accepts functions typed for the core's richer upstream type
  bivarianceHack(host: string, port: number, ups: UpstreamLike): unknown
}['bivarianceHack']

export interface ServerLike {
  readonly host: string
  readonly port: number
}

export interface LevelLike {
  readonly servers: readonly ServerLike[]
}

/** Levels (array, level n = index n-1) or named clusters in definition order. */
export type ClusterLike = readonly LevelLike[] | Readonly<Record<string, LevelLike>>

export interface HttpOptsLike {
  readonly query?: string | null
  readonly statuses?: Readonly<Record<string, boolean>> | null
}

/** What the heartbeat reads of an upstream; absent = the default. */
export interface UpstreamLike {
  /** heartbeat enabled; null/undefined = follow `default_heartbeat_enable` */
  readonly enable?: boolean | null
  /** `general` (default) | `http` | `redis` | `mysql`; unknown → general (as the original) */
  readonly typ?: string | null
  /** probe timeout, seconds (default 5) */
  readonly timeout?: number | null
  readonly http_opts?: HttpOptsLike | null
  readonly protected?: boolean | null
  readonly sensibility?: number | null
  readonly name?: string | null
  readonly user?: string | null
  readonly pass?: string | null
  readonly charset?: string | null
  readonly heartbeat?: HeartbeatFn | null
  /** `https`: the http probe speaks TLS with `tls` */
  readonly scheme?: string | null
  readonly tls?: UpstreamTlsLike | null
  readonly cluster: ClusterLike
}

/** An https upstream's TLS settings (file paths). */
export interface UpstreamTlsLike {
  readonly servername?: string | null
  readonly ca?: string | null
  readonly cert?: string | null
  readonly key?: string | null
  readonly reject_unauthorized?: boolean | null
}

/** The global settings a round needs. */
export interface HeartbeatGlobals {
  /** seconds between round starts (default 5) */
  readonly checkup_timer_interval: number
  /** lease and `checkup_timer_alive` TTL, seconds (default 60) */
  readonly checkup_timer_overtime: number
  readonly default_heartbeat_enable: boolean
}

/** One probe's outcome before aggregation. */
export interface ProbeResult {
  status: PeerStatusCode
  msg: string | null
  /** stored in the record as is (redis `replication`, `redis_version`, custom fields) */
  extras: Record<string, unknown>
}

export type DictValue = string | number | boolean | Uint8Array

/** The subset of SharedDict the heartbeat uses. */
export interface DictLike {
  get(key: string): DictValue | undefined
  set(key: string, value: DictValue, exptime?: number): { ok: boolean; err?: string }
  safeAdd(key: string, value: DictValue, exptime?: number): { ok: boolean; err?: string }
  delete(key: string): void
  addSlot(slot: number, n: number): number
  loadSlot(slot: number): number
  readonly buffer: SharedArrayBuffer
}

// the package's one log sink (core passes its own logger through)
export { silentLogger, type Logger } from '../shared.js'
