/**
 * The zod schemas of the original's config format, carrying the defaults and the human
 * messages that `resolve.ts` prefixes with a dotted path. Numeric strings are accepted where
 * a number is expected ("8080" → 8080): configs also arrive as JSON.
 *
 * Invariants: every object is strict (an unknown key is an error naming the nearest known
 * option, see issues.ts); every number has a stated range (bounds.ts); zod builds new objects,
 * so the caller's object is never frozen or mutated.
 */
import { z } from 'zod'
import { hostProblem, resolverProblem, MAX_INT32, MAX_SECONDS, MIN_SECONDS, SECONDS_MSG } from './bounds.js'
import { strictObject } from './issues.js'
import { HEARTBEAT_THREAD_AUTO_PEERS } from '../heartbeat/mode.js'

export const MODES = ['wrr', 'hash', 'url_hash', 'ip_hash', 'header_hash', 'least_conn', 'p2c'] as const
export const TYPS = ['general', 'redis', 'mysql', 'http'] as const

const numeric = (v: unknown): unknown =>
  typeof v === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : v

function int(min: number, max: number, msg = `must be an integer ${min}-${max}`) {
  return z.preprocess(numeric, z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg }))
}
/** a duration in seconds (bounds.ts); `zeroOff`: 0 is allowed and means "off" */
function seconds(zeroOff = false) {
  const msg = zeroOff ? `must be 0 (off) or a number of seconds ${MIN_SECONDS}-${MAX_SECONDS}` : SECONDS_MSG
  const ok = (n: number): boolean => Number.isFinite(n) && ((zeroOff && n === 0) || (n >= MIN_SECONDS && n <= MAX_SECONDS))
  return z.preprocess(numeric, z.number({ error: msg }).refine(ok, { error: msg }))
}
const bool = z.boolean({ error: 'must be a boolean' })
const str = z.string({ error: 'must be a string' })
const nullable = <T extends z.ZodType>(s: T) => s.nullish().transform((v) => v ?? null)

const host = z.string({ error: 'must be a non-empty string' }).superRefine((h, ctx) => {
  const problem = hostProblem(h)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

export const serverSchema = strictObject({
  host,
  port: int(1, 65535),
  weight: int(1, MAX_INT32).default(1),
  max_fails: int(0, MAX_INT32).default(0),
  fail_timeout: seconds().default(10),
  // balancing extension (absent unless set): in-flight attempts beyond which the peer is skipped
  max_conns: int(1, MAX_INT32).optional(),
  // runtime flags (admin per-server operations): absent unless set
  down: bool.optional(),
  drain: bool.optional(),
})

/** A level (or named cluster). `try` is handled in resolve.ts: accepted, ignored, warned. */
export const levelSchema = strictObject({
  servers: z.array(serverSchema, { error: 'must be an array of servers' }).default([]),
  upstream: str.nullish().transform((v) => v ?? null),
  upstream_only_backup: bool.default(false),
  upstream_skip_down: bool.default(false),
})

const statusesSchema = z.record(z.string(), z.boolean({ error: 'must be a boolean' }), { error: 'must be an object' })
const httpOptsSchema = strictObject({
  query: str.nullish().transform((v) => v ?? null),
  statuses: statusesSchema.nullish().transform((v) => v ?? null),
})

/** TLS towards the peers of a `scheme: 'https'` upstream (file paths, read by the proxy and the http probe). */
const path = z.string({ error: 'must be a file path' }).min(1, { error: 'must be a file path' })
export const upstreamTlsSchema = strictObject({
  servername: nullable(z.string({ error: 'must be a string' }).min(1, { error: 'must be a non-empty string' })),
  ca: nullable(path),
  cert: nullable(path),
  key: nullable(path),
  reject_unauthorized: bool.default(true),
})
const fn = z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { error: 'must be a function' })

/** Everything of an upstream; `cluster` is validated level by level in resolve.ts. */
export const upstreamSchema = strictObject({
  cluster: z.unknown().optional(),
  enable: nullable(bool),
  typ: z.enum(TYPS, { error: `must be one of ${TYPS.join(', ')}` }).default('general'),
  timeout: seconds().default(5),
  read_timeout: nullable(seconds()),
  send_timeout: nullable(seconds()),
  http_opts: nullable(httpOptsSchema),
  mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }).default('wrr'),
  protected: bool.default(true),
  sensibility: int(1, 1_000_000).default(1),
  // health/balancing extensions (absent unless set, so resolved configs of the original's keys are unchanged)
  rise: int(1, 1_000_000).optional(),
  fall: int(1, 1_000_000).optional(),
  slow_start: seconds(true).optional(),
  outlier_detection: strictObject({
    consecutive_5xx: int(1, 1_000_000).optional(),
    consecutive_gateway_failure: int(1, 1_000_000).optional(),
    consecutive_local_origin_failure: int(1, 1_000_000).optional(),
    base_ejection_time: seconds().default(30),
    max_ejection_time: seconds().default(300),
    max_ejection_percent: z.preprocess(numeric, z.number({ error: 'must be a percentage 0-100' }).min(0, { error: 'must be a percentage 0-100' }).max(100, { error: 'must be a percentage 0-100' })).default(10),
  }).optional(),
  panic_threshold: z.preprocess(numeric, z.number({ error: 'must be a percentage 0-100' }).min(0, { error: 'must be a percentage 0-100' }).max(100, { error: 'must be a percentage 0-100' })).optional(),
  retry_budget: strictObject({
    ratio: z.preprocess(numeric, z.number({ error: 'must be a number 0-1' }).min(0, { error: 'must be a number 0-1' }).max(1, { error: 'must be a number 0-1' })),
    min_concurrency: int(0, 1_000_000).default(3),
  }).optional(),
  try: nullable(int(0, 1_000_000)),
  try_timeout: nullable(seconds(true)),
  name: nullable(str),
  user: nullable(str),
  pass: nullable(str),
  charset: nullable(str),
  heartbeat: nullable(fn),
  scheme: z.enum(['http', 'https'], { error: 'must be http or https' }).default('http'),
  tls: nullable(upstreamTlsSchema),
})

const dnsResolver = z.string({ error: 'must be a string "ip:port"' }).superRefine((r, ctx) => {
  const problem = resolverProblem(r)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

/** `global.dns`: hostnames of servers are resolved (dns/); absent = hosts are used as written. */
export const dnsSchema = strictObject({
  resolver: nullable(dnsResolver),
  min_ttl: seconds().default(1),
  max_ttl: seconds().default(300),
}).superRefine((d, ctx) => {
  if (d.min_ttl > d.max_ttl) ctx.addIssue({ code: 'custom', path: ['min_ttl'], message: 'must not exceed max_ttl' })
})

/** `redis://host:port` / `rediss://host:port` (a database path, user or password is refused: give them as keys) */
const redisUrl = z.string({ error: 'must be redis://host:port or { sentinels, name }' }).superRefine((u, ctx) => {
  let url: URL | undefined
  try {
    url = new URL(u)
  } catch {
    /* reported below */
  }
  const bad = !url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '' ||
    url.username !== '' || url.password !== '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== ''
  if (bad) ctx.addIssue({ code: 'custom', message: `must be redis://host:port or rediss://host:port, got ${JSON.stringify(u)}` })
})
const sentinelsSchema = strictObject({
  sentinels: z.array(strictObject({ host, port: int(1, 65535) }), { error: 'must be an array of { host, port }' })
    .min(1, { error: 'must list at least one sentinel' }),
  name: z.string({ error: 'must be the master name (a non-empty string)' }).min(1, { error: 'must be the master name (a non-empty string)' }),
})
/** Many nodes, one upstream configuration (cluster/store.ts); absent: the node works alone. */
export const clusterStoreSchema = strictObject({
  redis: z.union([redisUrl, sentinelsSchema], { error: 'must be redis://host:port or { sentinels, name }' }),
  namespace: z.string({ error: 'must be a string' })
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'must be 1-64 characters of A-Z a-z 0-9 _ . -' }).default('default'),
  tls: bool.default(false),
  username: nullable(z.string({ error: 'must be a string' }).min(1, { error: 'must be a non-empty string' })),
  password: nullable(z.string({ error: 'must be a string' }).min(1, { error: 'must be a non-empty string' })),
})

export const globalSchema = strictObject({
  checkup_timer_interval: seconds().default(5),
  checkup_timer_overtime: seconds().default(60),
  default_heartbeat_enable: bool.default(true),
  heartbeat_thread: z.union([z.literal('auto'), z.boolean()], { error: "must be 'auto', true or false" }).default('auto'),
  heartbeat_thread_peers: int(1, 10_000_000).default(HEARTBEAT_THREAD_AUTO_PEERS),
  checkup_shd_sync_enable: bool.default(true),
  shd_config_timer_interval: nullable(seconds()),
  ups_status_sync_enable: bool.default(false),
  ups_status_timer_interval: seconds().default(5),
  conf_hash: nullable(z.union([str, z.number()], { error: 'must be a string' }).transform(String)),
  nginx_conf: nullable(str),
  cluster_store: clusterStoreSchema.optional(),
  dns: dnsSchema.optional(),
})
