/**
 * Process-level endpoints: `GET /workers` (the primary's worker table) and `GET /status`
 * (checkups' status, CONTRACT.md §3 shape).
 */
import type { AdminContext, Router } from '../router.js'
import { AdminError } from '../errors.js'

export function register(router: Router): void {
  router.add('GET', '/workers', async (_req, ctx) => ({ status: 200, body: await ctx.workers() }))
  router.add('GET', '/status', (_req, ctx) => ({ status: 200, body: status(ctx) }))
}

function status(ctx: AdminContext): unknown {
  const checkups = ctx.checkups as { getStatus?: () => unknown }
  if (typeof checkups.getStatus !== 'function') throw new AdminError('ADM_ERR_UNAVAILABLE', 503, 'checkups status is not available')
  return checkups.getStatus()
}
