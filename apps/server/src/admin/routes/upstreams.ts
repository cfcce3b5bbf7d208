/**
 * `GET /upstreams`, `GET|PUT|DELETE /upstreams/:skey`.
 *
 * PUT takes an upstream with `cluster` (full replacement) or a cluster alone (merged into the
 * stored upstream) — core's updateUpstream validates it with the config schema and the
 * original's strings, under the `checkups:skeys` lock, persists it, and bumps the version;
 * the answer comes after all of that, so an acknowledged change is durable and visible.
 * Writes answer the new version (body and ETag) and honour `If-Match: <version>` (412); with
 * `global.cluster_store` they go to the store first and `If-Match` is the upstream's store
 * revision (409 CKP_ERR_STORE_CONFLICT), see common.ts `writeOptions`.
 * Answers never carry secrets (common.ts `redact`).
 */
import { CheckupsError } from '@checkups/core'
import { REDACTED, ok, redact, skeyParam, storedUpstream, upstreamEtag, writableSkey, writeOptions } from './common.js'
import type { Router } from '../router.js'

export function register(router: Router): void {
  router.add('GET', '/upstreams', (_req, ctx) => ok(redact(ctx.checkups.getUpstream() ?? {})))

  router.add('GET', '/upstreams/:skey', (req, ctx) => {
    const skey = skeyParam(req)
    return { ...ok(redact(storedUpstream(ctx, skey))), headers: { etag: upstreamEtag(ctx, skey) } }
  })

  router.add('PUT', '/upstreams/:skey', async (req, ctx) => {
    const skey = writableSkey(req)
    const body = req.body
    if (body === undefined || body === null) {
      throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', 'can not set empty upstream')
    }
    if (typeof body !== 'object') {
      throw new CheckupsError('CKP_ERR_INVALID_UPSTREAM', `${skey}: must be an object (an upstream or a cluster)`)
    }
    // an upstream read back from GET carries `pass: "[redacted]"`: keep the stored secret
    let up = body as Record<string, unknown>
    if (up['pass'] === REDACTED) up = { ...up, pass: ctx.checkups.getUpstream(skey)?.pass ?? null }
    const w = writeOptions(req)
    return w.answer(await ctx.checkups.dynamic.update(skey, up, w))
  })

  router.add('DELETE', '/upstreams/:skey', async (req, ctx) => {
    const w = writeOptions(req)
    return w.answer(await ctx.checkups.dynamic.delete(skeyParam(req), w))
  })
}
