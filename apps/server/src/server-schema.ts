/**
 * The schema of the config file's `server` section (the app's own part of the config) and
 * its input type for `defineConfig`.
 *
 * Invariants: strict like core's schema (an unknown key names the nearest option); addresses
 * are kept as given here and parsed by listen.ts, where the command line can override them;
 * route options are the proxy's (`RouteConfig`) and a new one is added here too.
 */
import { strictObject } from '@checkups/core'
import { z } from 'zod'

const MAX_BODY_LIMIT = 1024 * 1024 * 1024

const int = (min: number, max: number) => {
  const msg = `must be an integer ${min}-${max}`
  return z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg })
}
const address = z.union([z.string(), z.number()], { error: 'expected HOST:PORT' })
const nonEmpty = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' })

export const routeSchema = strictObject({
  host: z.string({ error: 'must be a string' }).nullish(),
  path_prefix: z.string({ error: 'must be a string starting with /' }).nullish(),
  upstream: nonEmpty,
  strip_prefix: z.boolean({ error: 'must be a boolean' }).nullish(),
})

export const serverSectionSchema = strictObject({
  workers: int(1, 1024).optional(),
  listen: address.optional(),
  admin: strictObject({
    listen: address.optional(),
    token: nonEmpty.refine((t) => !/[\s\u0000-\u001f\u007f]/.test(t), { error: 'must not contain spaces or control characters' }).optional(),
    body_limit: int(1, MAX_BODY_LIMIT).optional(),
  }).optional(),
  shared_dicts: z.record(z.string(), z.union([z.number(), z.string()], { error: 'must be a size (bytes, or a string like "10m")' }), { error: 'must be an object of sizes' }).optional(),
  routes: z.array(routeSchema, { error: 'must be an array of routes' }).optional(),
  demo: strictObject({
    backends: z.array(address, { error: 'must be an array of HOST:PORT' }),
  }).optional(),
})

export type RouteInput = z.input<typeof routeSchema>
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
  }
  /** zone sizes: bytes or '10m' / '512k' */
  shared_dicts?: Record<string, number | string>
  routes?: Array<{ host?: string | null; path_prefix?: string | null; upstream: string; strip_prefix?: boolean | null }>
  /** demo backends served by the workers themselves (the bundled example) */
  demo?: { backends: Array<string | number> }
}
