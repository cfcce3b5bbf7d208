/**
 * The zod schemas of the original's config format, carrying the defaults
 * and the human messages that `resolve.ts` prefixes with a dotted path. Numeric strings are
 * accepted where a number is expected ("8080" → 8080): configs also arrive as JSON.
 * Unknown keys are dropped (never copied by reference, so the caller's object is never frozen).
 */
import { z } from 'zod'

export const MODES = ['wrr', 'hash', 'url_hash', 'ip_hash', 'header_hash'] as const
export const TYPS = ['general', 'redis', 'mysql', 'http'] as const

const numeric = (v: unknown): unknown =>
  typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v

function int(min: number, max: number, msg: string) {
  return z.preprocess(numeric, z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg }))
}
function num(min: number, msg: string, exclusive = false) {
  const base = z.number({ error: msg }).refine((n) => Number.isFinite(n) && (exclusive ? n > min : n >= min), { error: msg })
  return z.preprocess(numeric, base)
}
const bool = z.boolean({ error: 'must be a boolean' })
const str = z.string({ error: 'must be a string' })

const PORT = 'must be an integer 1-65535'
export const serverSchema = z.object({
  host: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
  port: int(1, 65535, PORT),
  weight: int(1, 1_000_000, 'must be an integer >= 1').default(1),
  max_fails: int(0, 1_000_000, 'must be an integer >= 0').default(0),
  fail_timeout: num(0, 'must be a number > 0', true).default(10),
}, { error: 'must be an object' })

export const levelSchema = z.object({
  servers: z.array(serverSchema, { error: 'must be an array of servers' }).default([]),
  upstream: str.nullish().transform((v) => v ?? null),
  upstream_only_backup: bool.default(false),
  upstream_skip_down: bool.default(false),
}, { error: 'must be an object' })

const statusesSchema = z.record(z.string(), z.boolean({ error: 'must be a boolean' }), { error: 'must be an object' })
const httpOptsSchema = z.object({
  query: str.nullish().transform((v) => v ?? null),
  statuses: statusesSchema.nullish().transform((v) => v ?? null),
}, { error: 'must be an object' })

const nullable = <T extends z.ZodType>(s: T) => s.nullish().transform((v) => v ?? null)

/** TLS towards the peers of a `scheme: 'https'` upstream (file paths, read by the proxy and the http probe). */
const path = z.string({ error: 'must be a file path' }).min(1, { error: 'must be a file path' })
export const upstreamTlsSchema = z.object({
  servername: nullable(z.string({ error: 'must be a string' }).min(1, { error: 'must be a non-empty string' })),
  ca: nullable(path),
  cert: nullable(path),
  key: nullable(path),
  reject_unauthorized: bool.default(true),
}, { error: 'must be an object { servername?, ca?, cert?, key?, reject_unauthorized? }' })
const fn = z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { error: 'must be a function' })

/** Everything of an upstream but `cluster` (validated level by level in resolve.ts). */
export const upstreamSchema = z.object({
  enable: nullable(bool),
  typ: z.enum(TYPS, { error: `must be one of ${TYPS.join(', ')}` }).default('general'),
  timeout: num(0, 'must be a number > 0', true).default(5),
  read_timeout: nullable(num(0, 'must be a number > 0', true)),
  send_timeout: nullable(num(0, 'must be a number > 0', true)),
  http_opts: nullable(httpOptsSchema),
  mode: z.enum(MODES, { error: `must be one of ${MODES.join(', ')}` }).default('wrr'),
  protected: bool.default(true),
  sensibility: int(1, 1_000_000, 'must be an integer >= 1').default(1),
  try: nullable(int(0, 1_000_000, 'must be an integer >= 0')),
  try_timeout: nullable(num(0, 'must be a number >= 0')),
  name: nullable(str),
  user: nullable(str),
  pass: nullable(str),
  charset: nullable(str),
  heartbeat: nullable(fn),
  scheme: z.enum(['http', 'https'], { error: 'must be http or https' }).default('http'),
  tls: nullable(upstreamTlsSchema),
}, { error: 'must be an object' })

export const globalSchema = z.object({
  checkup_timer_interval: num(0, 'must be a number > 0', true).default(5),
  checkup_timer_overtime: num(0, 'must be a number > 0', true).default(60),
  default_heartbeat_enable: bool.default(true),
  checkup_shd_sync_enable: bool.default(true),
  shd_config_timer_interval: nullable(num(0, 'must be a number > 0', true)),
  ups_status_sync_enable: bool.default(false),
  ups_status_timer_interval: num(0, 'must be a number > 0', true).default(5),
  conf_hash: nullable(z.union([str, z.number()], { error: 'must be a string' }).transform(String)),
  nginx_conf: nullable(str),
}, { error: 'must be an object' })
