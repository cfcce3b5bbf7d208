/**
 * Per-peer statistics from shared memory (the same numbers from every worker):
 * `GET /stats` → `{ <skey>: { "<host>:<port>": PeerStats } }`, `GET /upstreams/:skey/stats`
 * → `{ "<host>:<port>": PeerStats }` (404 for an unknown skey).
 */
import type { Router } from '../router.js'

export function register(router: Router): void {
  router.add('GET', '/stats', (_req, ctx) => ({ status: 200, body: ctx.checkups.getStats() }))
  router.add('GET', '/upstreams/:skey/stats', (req, ctx) => {
    const skey = req.params['skey'] ?? ''
    return { status: 200, body: ctx.checkups.getStats(skey)[skey] }
  })
}
