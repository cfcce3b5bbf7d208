/**
 * Operations on the whole configuration:
 * - `POST /validate` `{ skey, upstream }` dry-runs what `PUT /upstreams/:skey` would store:
 *   200 `{ ok, skey, upstream }` (resolved, secrets redacted) or the PUT's error; nothing changes.
 * - `POST /reload` does what SIGHUP does and answers its outcome: 200 `{ ok, generation }`, a
 *   refused config 400 `ADM_ERR_RELOAD_REFUSED` (the runtime's code, `RT_ERR_CONFIG_INVALID` or
 *   `RT_ERR_CONFIG_LOAD`, in the message), a failed reload 500 `ADM_ERR_RELOAD`. Either way the
 *   shared config is unchanged.
 */
import { AdminError } from '../errors.js'
import type { Router } from '../router.js'
import { ok, redact, writableSkey } from './common.js'

export function register(router: Router): void {
  router.add('POST', '/validate', (req, ctx) => {
    const body = req.body
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new AdminError('ADM_ERR_BAD_REQUEST', 400, 'body must be { skey, upstream }')
    }
    const { skey, upstream, ...rest } = body as Record<string, unknown>
    if (Object.keys(rest).length > 0) throw new AdminError('ADM_ERR_BAD_REQUEST', 400, `unknown field ${Object.keys(rest)[0]}: body must be { skey, upstream }`)
    if (typeof skey !== 'string') throw new AdminError('ADM_ERR_BAD_REQUEST', 400, 'skey: must be a string')
    writableSkey({ ...req, params: { skey } })
    const resolved = ctx.checkups.dynamic.validate(skey, upstream)
    return ok({ ok: true, skey, upstream: redact({ ...resolved, heartbeat: undefined }) })
  })

  router.add('POST', '/reload', async (_req, ctx) => {
    if (!ctx.reload) throw new AdminError('ADM_ERR_INTERNAL', 500, 'reload is not available in this process')
    const r = await ctx.reload()
    if (r.outcome === 'done') return ok({ ok: true, generation: r.generation })
    const refused = r.outcome === 'refused'
    const message = `reload ${r.outcome}${r.code ? ` (${r.code})` : ''}: ${r.error ?? ''}`
    throw new AdminError(refused ? 'ADM_ERR_RELOAD_REFUSED' : 'ADM_ERR_RELOAD', refused ? 400 : 500, message)
  })
}
