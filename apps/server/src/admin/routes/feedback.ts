/**
 * `POST /upstreams/:skey/feedback` `{ host, port, failed }` → passive accounting, exactly as a
 * readyOk callback's result would feed it. The body is
 * checked with the config's server rules (host non-empty string, port 1-65535, numeric strings
 * accepted like in the config) plus `failed: boolean`; unknown skey/peer → 404.
 */
import { formatIssues } from '@checkups/core'
import { z } from 'zod'
import { ok, skeyParam } from './common.js'
import { AdminError } from '../errors.js'
import type { Router } from '../router.js'

const PORT = 'must be an integer 1-65535'
const feedbackSchema = z.strictObject(
  {
    host: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
    port: z.preprocess(
      (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
      z.number({ error: PORT }).int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT }),
    ),
    failed: z.boolean({ error: 'must be a boolean' }),
  },
  { error: 'must be an object { host, port, failed }' },
)

export function register(router: Router): void {
  router.add('POST', '/upstreams/:skey/feedback', (req, ctx) => {
    const skey = skeyParam(req)
    const r = feedbackSchema.safeParse(req.body)
    if (!r.success) {
      throw new AdminError('ADM_ERR_BAD_REQUEST', 400, formatIssues(r.error.issues))
    }
    // an operator's report: a transition it causes is logged and counted as `admin`
    ctx.checkups.feedbackStatus(skey, r.data.host, r.data.port, r.data.failed, 'admin')
    return ok({ ok: true })
  })
}
