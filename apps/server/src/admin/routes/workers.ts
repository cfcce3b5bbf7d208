/**
 * Process-level endpoints: `GET /workers` (the primary's worker table) and `GET /status`
 * (checkups' status shape).
 */
import type { Router } from '../router.js'

export function register(router: Router): void {
  router.add('GET', '/workers', async (_req, ctx) => ({ status: 200, body: await ctx.workers() }))
  router.add('GET', '/status', (_req, ctx) => ({ status: 200, body: ctx.checkups.getStatus() }))
}
