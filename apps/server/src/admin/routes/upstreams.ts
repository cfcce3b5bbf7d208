/**
 * `GET /upstreams`, `GET|PUT|DELETE /upstreams/:skey`.
 *
 * PUT takes an upstream with `cluster` (full replacement) or a cluster alone (merged into the
 * stored upstream) — core's updateUpstream validates it with the config schema and the
 * original's strings, under the `checkups:skeys` lock, persists it, and bumps the version;
 * the answer comes after all of that, so an acknowledged change is durable and visible.
 */
import { CheckupsError } from '@checkups/core'
import { ok, skeyParam, storedUpstream, writableSkey } from './common.js'
import type { Router } from '../router.js'

export function register(router: Router): void {
  router.add('GET', '/upstreams', (_req, ctx) => ok(ctx.checkups.getUpstream() ?? {}))

  router.add('GET', '/upstreams/:skey', (req, ctx) => ok(storedUpstream(ctx, skeyParam(req))))

  router.add('PUT', '/upstreams/:skey', async (req, ctx) => {
    const skey = writableSkey(req)
    const body = req.body
    if (body === undefined || body === null) {
      throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', 'can not set empty upstream')
    }
    if (typeof body !== 'object') {
      throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', `${skey}: must be an object (an upstream or a cluster)`)
    }
    const version = await ctx.checkups.updateUpstream(skey, body)
    return ok({ ok: true, version })
  })

  router.add('DELETE', '/upstreams/:skey', async (req, ctx) => {
    const version = await ctx.checkups.deleteUpstream(skeyParam(req))
    return ok({ ok: true, version })
  })
}
