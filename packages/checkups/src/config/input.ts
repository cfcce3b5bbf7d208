/**
 * The config as users write it (before defaults): the input types of `resolveConfig`.
 * `defineConfig()` only returns its argument, but typed, so `tsc` refuses the same typos the
 * schema refuses at run time (`wieght` → "Did you mean to write 'weight'?").
 *
 * @example
 *   export default defineConfig({
 *     global: { checkup_timer_interval: 5 },
 *     api: { timeout: 2, cluster: [{ servers: [{ host: '127.0.0.1', port: 8081, weight: 3 }] }] },
 *   })
 */
import type { HeartbeatFn, Mode, UpstreamTyp } from './types.js'

/** Durations are seconds, 0.001-2147483.647; counts are integers (ranges in bounds.ts). */
export interface ServerInput {
  /** hostname or IP address, no port */
  host: string
  /** 1-65535 (a numeric string is accepted) */
  port: number | string
  /** 1-2147483647, default 1 */
  weight?: number
  /** 0-2147483647, default 0 (passive checks off) */
  max_fails?: number
  /** seconds, default 10 */
  fail_timeout?: number
  /** out of rotation until undone (set at runtime by the admin per-server operations) */
  down?: boolean
  /** no new requests; the ones in flight finish (set at runtime by the admin per-server operations) */
  drain?: boolean
}

export interface LevelInput {
  servers?: ServerInput[]
  /** name of an nginx `upstream` block (global.nginx_conf) feeding this level */
  upstream?: string | null
  upstream_only_backup?: boolean
  upstream_skip_down?: boolean
  /** accepted for the original README's sake and ignored, as the original does (a warning) */
  try?: number
  /** accepted and ignored, like `try` (a warning) */
  try_timeout?: number
}

export interface HttpOptsInput {
  query?: string | null
  statuses?: Record<string, boolean> | null
}

export interface UpstreamInput {
  /** levels (tried in order) or named clusters */
  cluster: LevelInput[] | Record<string, LevelInput>
  enable?: boolean | null
  typ?: UpstreamTyp
  timeout?: number
  read_timeout?: number | null
  send_timeout?: number | null
  http_opts?: HttpOptsInput | null
  mode?: Mode
  protected?: boolean
  sensibility?: number
  try?: number | null
  /** seconds; 0 = no budget */
  try_timeout?: number | null
  name?: string | null
  user?: string | null
  pass?: string | null
  charset?: string | null
  heartbeat?: HeartbeatFn | null
  /** how the proxy and the http heartbeat reach the peers (default http) */
  scheme?: 'http' | 'https'
  /** TLS towards the peers of an https upstream (file paths) */
  tls?: { servername?: string | null; ca?: string | null; cert?: string | null; key?: string | null; reject_unauthorized?: boolean } | null
}

export interface GlobalInput {
  checkup_timer_interval?: number
  checkup_timer_overtime?: number
  default_heartbeat_enable?: boolean
  heartbeat_thread?: 'auto' | boolean
  heartbeat_thread_peers?: number
  checkup_shd_sync_enable?: boolean
  shd_config_timer_interval?: number | null
  ups_status_sync_enable?: boolean
  ups_status_timer_interval?: number
  conf_hash?: string | number | null
  nginx_conf?: string | null
  /** resolve servers' hostnames to every A/AAAA record; re-resolved by TTL within [min_ttl, max_ttl] seconds */
  dns?: { resolver?: string | null; min_ttl?: number; max_ttl?: number }
}

/** A whole config: `global` plus one upstream per other key. */
export interface ConfigInput {
  global?: GlobalInput
  [skey: string]: UpstreamInput | GlobalInput | undefined
}

/** Returns `config` unchanged; its type makes tsc check the option names. */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config
}
