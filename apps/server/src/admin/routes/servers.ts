/**
 * One server at a time (nginx Plus `/upstreams/{u}/servers`, HAProxy's `set server`):
 * - `GET /upstreams/:skey/servers` → every server with `cluster`, `state`
 *   (`up | down | draining | drained`) and `busy` (a drained server some worker may still have
 *   a request in flight to);
 * - `POST /upstreams/:skey/servers` `{ host, port, weight?, max_fails?, fail_timeout?, down?,
 *   drain?, level? | cluster? }` adds one (201; to the first level unless `level` (1-based) or
 *   `cluster` (a named cluster) says where);
 * - `GET | PATCH | DELETE /upstreams/:skey/servers/:server` where `:server` is `host:port`
 *   (`[addr]:port` for IPv6; URL-encoded as needed): PATCH takes any of `weight`, `max_fails`,
 *   `fail_timeout`, `down`, `drain`.
 * Every write answers `{ ok, version }` (and the ETag), honours `If-Match`, and is validated
 * by core with the config schema: a refused request changes nothing.
 */
import { z } from 'zod'
import { AdminError } from '../errors.js'
import type { AdminRequest, Router } from '../router.js'
import { ok, redact, serverParam, skeyParam, writeOptions } from './common.js'

const flags = {
  weight: z.number({ error: 'must be a number' }).optional(),
  max_fails: z.number({ error: 'must be a number' }).optional(),
  fail_timeout: z.number({ error: 'must be a number' }).optional(),
  down: z.boolean({ error: 'must be a boolean' }).optional(),
  drain: z.boolean({ error: 'must be a boolean' }).optional(),
}
const patchSchema = z.strictObject(flags, { error: 'must be an object of weight, max_fails, fail_timeout, down, drain' })
const addSchema = z.strictObject({
  host: z.string({ error: 'must be a non-empty string' }),
  port: z.number({ error: 'must be an integer 1-65535' }),
  ...flags,
  level: z.number({ error: 'must be an integer >= 1' }).int({ error: 'must be an integer >= 1' }).min(1, { error: 'must be an integer >= 1' }).optional(),
  cluster: z.string({ error: 'must be a string' }).optional(),
}, { error: 'must be an object { host, port, ... }' })

function parse<T extends z.ZodType>(schema: T, req: AdminRequest): z.output<T> {
  const r = schema.safeParse(req.body)
  if (r.success) return r.data
  const msg = r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')
  throw new AdminError('ADM_ERR_BAD_REQUEST', 400, msg)
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}

export function register(router: Router): void {
  router.add('GET', '/upstreams/:skey/servers', (req, ctx) => ok(redact(ctx.checkups.dynamic.servers(skeyParam(req)))))

  router.add('POST', '/upstreams/:skey/servers', async (req, ctx) => {
    const skey = skeyParam(req)
    const { level, cluster, ...server } = parse(addSchema, req)
    if (level !== undefined && cluster !== undefined) throw new AdminError('ADM_ERR_BAD_REQUEST', 400, 'give level or cluster, not both')
    const place = defined({ level, cluster })
    const w = writeOptions(req)
    const version = await ctx.checkups.dynamic.addServer(skey, defined(server), place, w)
    return w.answer(version, { id: `${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}` }, 201)
  })

  router.add('GET', '/upstreams/:skey/servers/:server', (req, ctx) => {
    const { host, port } = serverParam(req)
    const skey = skeyParam(req)
    const hit = ctx.checkups.dynamic.servers(skey).find((s) => s.host === host && s.port === port)
    if (!hit) throw new AdminError('ADM_ERR_NOT_FOUND', 404, `no server ${host}:${port} in upstream ${skey}`)
    return ok(redact(hit))
  })

  router.add('PATCH', '/upstreams/:skey/servers/:server', async (req, ctx) => {
    const skey = skeyParam(req)
    const { host, port } = serverParam(req)
    const patch = defined(parse(patchSchema, req))
    if (Object.keys(patch).length === 0) throw new AdminError('ADM_ERR_BAD_REQUEST', 400, 'nothing to change: give weight, max_fails, fail_timeout, down or drain')
    const w = writeOptions(req)
    return w.answer(await ctx.checkups.dynamic.patchServer(skey, host, port, patch, w))
  })

  router.add('DELETE', '/upstreams/:skey/servers/:server', async (req, ctx) => {
    const skey = skeyParam(req)
    const { host, port } = serverParam(req)
    const w = writeOptions(req)
    return w.answer(await ctx.checkups.dynamic.removeServer(skey, host, port, w))
  })
}
