/** `GET /upstreams/:skey/timeout` → `{ connect, send, read }` seconds (getUpsTimeout), 404. */
import { CheckupsError } from '@checkups/core'
import { ok, skeyParam } from './common.js'
import type { Router } from '../router.js'

export function register(router: Router): void {
  router.add('GET', '/upstreams/:skey/timeout', (req, ctx) => {
    const skey = skeyParam(req)
    const t = ctx.checkups.getUpsTimeout(skey)
    if (t === undefined) throw new CheckupsError('CKP_ERR_UNKNOWN_SKEY', `unknown skey ${skey}`)
    return ok({ connect: t[0], send: t[1], read: t[2] })
  })
}
