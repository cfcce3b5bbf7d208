/**
 * The proxy's part of the `server` section, validated once (zod) with its defaults: listener
 * limits, TLS, and per-route policy. Inside the proxy every value is resolved (no optional
 * fields); durations are given in seconds, as the upstreams' timeouts are, and kept in ms.
 *
 * Invariants:
 * - Every bound is finite and positive where a zero would silently disable a protection
 *   (a timeout of 0 is refused, not "off").
 * - Errors carry a dotted path: `server.routes[1].timeouts.read: must be a number > 0`.
 * - Defaults are the safe ones (nginx's where it has one): body 1 MiB, 100 header fields,
 *   header read 60 s, whole request 300 s, idle keep-alive 5 s (a graceful stop waits that long for
 *   idle connections), 4096 connections per worker,
 *   retries on connect errors and timeouts only, redirects rewritten, no worker header.
 */
import { z } from 'zod'
import { ProxyError } from './errors.js'

export const NEXT_UPSTREAM = ['error', 'timeout', 'http_500', 'http_502', 'http_503', 'http_504', 'http_429', 'non_idempotent', 'off'] as const
export type NextUpstream = (typeof NEXT_UPSTREAM)[number]

export const seconds = (max: number) =>
  z.number({ error: 'must be a number > 0' }).refine((n) => Number.isFinite(n) && n > 0 && n <= max, { error: `must be a number > 0 and <= ${max}` })
const count = (min: number, max: number) =>
  z.number({ error: `must be an integer ${min}-${max}` }).int({ error: `must be an integer ${min}-${max}` }).min(min, { error: `must be an integer ${min}-${max}` }).max(max, { error: `must be an integer ${min}-${max}` })
/** headers that frame the message or the connection: never edited by a route */
const FRAMING = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'content-length'])
const headerName = z
  .string({ error: 'must be a header name' })
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be a header name' })
  .refine((n) => !FRAMING.has(n.toLowerCase()), { error: 'must not be a message-framing header (connection, content-length, transfer-encoding, ...)' })
const headerValue = z.string({ error: 'must be a string' }).regex(/^[\t\x20-\x7e\x80-\xff]*$/, { error: 'must not contain control characters' })
const headerEdits = z
  .object({
    set: z
      .record(z.string(), headerValue, { error: 'must be an object of header: value' })
      .superRefine((obj, ctx) => {
        for (const k of Object.keys(obj)) {
          const r = headerName.safeParse(k)
          if (!r.success) ctx.addIssue({ code: 'custom', path: [k], message: r.error.issues[0]?.message ?? 'must be a header name' })
        }
      })
      .default({}),
    remove: z.array(headerName, { error: 'must be an array of header names' }).default([]),
  }, { error: 'must be an object { set?, remove? }' })
  .strict()
  .default({ set: {}, remove: [] })

/** 1 day: above that a timer would be a bug, not a policy (and Node caps timers at 2^31 ms) */
export const MAX_SECONDS = 86_400
const MAX_BODY = 2 ** 40

const timeoutsSchema = z
  .object({ connect: seconds(MAX_SECONDS).optional(), send: seconds(MAX_SECONDS).optional(), read: seconds(MAX_SECONDS).optional() }, { error: 'must be an object { connect?, send?, read? }' })
  .strict()

export const routeSchema = z
  .object({
    host: z.string({ error: 'must be a string' }).nullish(),
    path_prefix: z.string({ error: 'must start with /' }).startsWith('/', { error: 'must start with /' }).nullish(),
    upstream: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
    strip_prefix: z.boolean({ error: 'must be a boolean' }).nullish(),
    timeouts: timeoutsSchema.optional(),
    next_upstream: z.array(z.enum(NEXT_UPSTREAM, { error: `must be among ${NEXT_UPSTREAM.join(', ')}` }), { error: 'must be an array' }).optional(),
    try: count(1, 1000).optional(),
    try_timeout: seconds(MAX_SECONDS).optional(),
    max_body_size: count(0, MAX_BODY).optional(),
    request_headers: headerEdits,
    response_headers: headerEdits,
    redirect: z.boolean({ error: 'must be a boolean' }).default(true),
    allow_trace: z.boolean({ error: 'must be a boolean' }).default(false),
  }, { error: 'must be an object' })
  .strict()

export const tlsSchema = z
  .object({
    cert: z.string({ error: 'must be a file path' }).min(1, { error: 'must be a file path' }),
    key: z.string({ error: 'must be a file path' }).min(1, { error: 'must be a file path' }),
    ca: z.string({ error: 'must be a file path' }).min(1).optional(),
    min_version: z.enum(['TLSv1.2', 'TLSv1.3'], { error: 'must be TLSv1.2 or TLSv1.3' }).default('TLSv1.2'),
  }, { error: 'must be an object { cert, key, ca?, min_version? }' })
  .strict()

export const limitsSchema = z.object({
  headers_timeout: seconds(MAX_SECONDS).default(60),
  request_timeout: seconds(MAX_SECONDS).default(300),
  keepalive_timeout: seconds(MAX_SECONDS).default(5),
  max_connections: count(1, 1_000_000).default(4096),
  max_headers: count(1, 10_000).default(100),
  max_body_size: count(0, MAX_BODY).default(1024 * 1024),
  websocket_idle_timeout: seconds(MAX_SECONDS).default(600),
  worker_header: z.boolean({ error: 'must be a boolean' }).default(false),
  http2: z.boolean({ error: 'must be a boolean' }).default(false),
  reuse_port: z.boolean({ error: 'must be a boolean' }).default(false),
  upstream_pipelining: count(1, 100).default(1),
  tls: tlsSchema.optional(),
})

export type RouteOptions = z.output<typeof routeSchema>
export type TlsOptions = z.output<typeof tlsSchema>

/** Listener-wide settings, resolved (ms for durations). */
export interface ProxyLimits {
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly maxConnections: number
  readonly maxHeaders: number
  readonly maxBodySize: number
  readonly wsIdleTimeoutMs: number
  readonly workerHeader: boolean
  /** offer HTTP/2 by ALPN on the TLS listener (HTTP/1.1 still served) */
  readonly http2: boolean
  /** each worker listens on its own SO_REUSEPORT socket (Node >= 22.12; ignored before) */
  readonly reusePort: boolean
  /** undici `pipelining` of every upstream pool */
  readonly upstreamPipelining: number
  readonly tls: TlsOptions | undefined
}

/** The proxy keys of the server section (others are ignored here: the app validates them). */
export const LIMIT_KEYS = Object.keys(limitsSchema.shape) as readonly string[]

/** A config error naming every issue with its dotted path under `where`. */
export function fail(where: string, error: z.ZodError): never {
  const msgs = error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
    return `${where}${path}: ${i.message}`
  })
  throw new ProxyError('PRX_ERR_INVALID_CONFIG', msgs.join('; '))
}

export function parseLimits(section: Readonly<Record<string, unknown>>): ProxyLimits {
  const picked: Record<string, unknown> = {}
  for (const k of LIMIT_KEYS) if (section[k] !== undefined && section[k] !== null) picked[k] = section[k]
  const r = limitsSchema.safeParse(picked)
  if (!r.success) fail('server', r.error)
  const v = r.data
  if (v.http2 && v.tls === undefined) throw new ProxyError('PRX_ERR_INVALID_CONFIG', 'server.http2: needs server.tls (HTTP/2 is offered by ALPN on the TLS listener)')
  if (v.headers_timeout > v.request_timeout) {
    throw new ProxyError('PRX_ERR_INVALID_CONFIG', 'server.headers_timeout: must be <= server.request_timeout')
  }
  return {
    headersTimeoutMs: v.headers_timeout * 1000,
    requestTimeoutMs: v.request_timeout * 1000,
    keepAliveTimeoutMs: v.keepalive_timeout * 1000,
    maxConnections: v.max_connections,
    maxHeaders: v.max_headers,
    maxBodySize: v.max_body_size,
    wsIdleTimeoutMs: v.websocket_idle_timeout * 1000,
    workerHeader: v.worker_header,
    http2: v.http2,
    reusePort: v.reuse_port,
    upstreamPipelining: v.upstream_pipelining,
    tls: v.tls,
  }
}

export function parseRoute(raw: unknown, i: number): RouteOptions {
  const r = routeSchema.safeParse(raw)
  if (!r.success) fail(`server.routes[${i}]`, r.error)
  return r.data
}
