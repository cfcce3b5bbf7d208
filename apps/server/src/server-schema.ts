/**
 * The schema of the config file's `server` section (the app's own part of the config) and
 * its input type for `defineConfig`.
 *
 * Invariants: strict like core's schema (an unknown key names the nearest option); addresses
 * are kept as given here and parsed by listen.ts, where the command line can override them.
 * The proxy's own keys of the section (PROXY_SECTION_KEYS: listener limits, TLS, streams) and
 * every route are accepted here and validated by the proxy's own schema (compileRoutes and
 * its option parsers), which the boundary calls too — one owner per option.
 */
import { strictObject } from '@checkups/core'
import { z } from 'zod'
import { LIMIT_KEYS } from './proxy/options.js'

const MAX_BODY_LIMIT = 1024 * 1024 * 1024

const int = (min: number, max: number) => {
  const msg = `must be an integer ${min}-${max}`
  return z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg })
}
const address = z.union([z.string(), z.number()], { error: 'expected HOST:PORT' })
const nonEmpty = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' })

/** Keys of the `server` section that belong to the proxy (src/proxy validates their values). */
export const PROXY_SECTION_KEYS: readonly string[] = [...LIMIT_KEYS, 'streams']

export const serverSectionSchema = strictObject({
  workers: int(1, 1024).optional(),
  listen: address.optional(),
  admin: strictObject({
    listen: address.optional(),
    token: nonEmpty.refine((t) => !/[\s\u0000-\u001f\u007f]/.test(t), { error: 'must not contain spaces or control characters' }).optional(),
    body_limit: int(1, MAX_BODY_LIMIT).optional(),
    read_token: nonEmpty.refine((t) => !/[\s\u0000-\u001f\u007f]/.test(t), { error: 'must not contain spaces or control characters' }).optional(),
    tls: strictObject({ cert: nonEmpty, key: nonEmpty }).optional(),
  }).optional(),
  shared_dicts: z.record(z.string(), z.union([z.number(), z.string()], { error: 'must be a size (bytes, or a string like "10m")' }), { error: 'must be an object of sizes' }).optional(),
  routes: z.array(z.unknown(), { error: 'must be an array of routes' }).optional(),
  ...Object.fromEntries(PROXY_SECTION_KEYS.map((k) => [k, z.unknown().optional()])),
  demo: strictObject({
    backends: z.array(address, { error: 'must be an array of HOST:PORT' }),
  }).optional(),
  // validated by src/access-log/config.ts (its one owner), called by the boundary
  access_log: z.unknown().optional(),
})

/** One route as written (the proxy's options; see src/proxy for their ranges). */
export interface RouteInput {
  /** Host header to match; `*.example.com` matches subdomains */
  host?: string | null
  /** path prefix, matched on segment boundaries; default `/` */
  path_prefix?: string | null
  /** the upstream (skey) to forward to: it must exist in the config */
  upstream: string
  strip_prefix?: boolean | null
  timeouts?: { connect?: number; send?: number; read?: number }
  next_upstream?: string[]
  try?: number
  try_timeout?: number
  max_body_size?: number
  request_headers?: { set?: Record<string, string>; remove?: string[] }
  response_headers?: { set?: Record<string, string>; remove?: string[] }
  redirect?: boolean
  allow_trace?: boolean
}
/** The `server` section as written in a config file. */
export interface ServerSectionInput {
  /** worker processes, 1-1024 (default: the number of CPUs) */
  workers?: number
  /** proxy listener, `HOST:PORT` (default 127.0.0.1:8080) */
  listen?: string | number
  admin?: {
    /** admin API listener (default 127.0.0.1:9080); off loopback it needs `token` */
    listen?: string | number
    /** `Authorization: Bearer <token>` required on every admin request */
    token?: string
    /** admin request bodies larger than this many bytes get 413 (default 1 MiB) */
    body_limit?: number
    /** a token for GET/HEAD only (role `read`); `token` is the `write` role */
    read_token?: string
    /** serve the admin API over HTTPS: PEM file paths */
    tls?: { cert: string; key: string }
  }
  /** zone sizes: bytes or '10m' / '512k' */
  shared_dicts?: Record<string, number | string>
  routes?: RouteInput[]
  /** demo backends served by the workers themselves (the bundled example) */
  demo?: { backends: Array<string | number> }
  /** the proxy's access log (default JSON lines on stdout); `path` appends to a file */
  access_log?: { format?: 'json' | 'combined' | 'off'; path?: string }
  // the proxy's listener settings (seconds for durations, bytes for sizes)
  headers_timeout?: number
  request_timeout?: number
  keepalive_timeout?: number
  max_connections?: number
  max_headers?: number
  max_body_size?: number
  websocket_idle_timeout?: number
  worker_header?: boolean
  http2?: boolean
  tls?: { cert: string; key: string; ca?: string; min_version?: 'TLSv1.2' | 'TLSv1.3' }
  streams?: unknown[]
  /** each worker binds the proxy port itself (SO_REUSEPORT, Node >= 22.12): the kernel spreads connections */
  reuse_port?: boolean
  /** requests in flight per upstream connection (undici `pipelining`), default 1 */
  upstream_pipelining?: number
}
