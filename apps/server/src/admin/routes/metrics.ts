/**
 * `GET /metrics`: Prometheus text exposition of admin/metrics.ts (declared there, once; the
 * admin server binds it to this worker's Checkups when it is created).
 */
import { adminMetrics, metricsSource } from '../metrics.js'
import type { Router } from '../router.js'

export function register(router: Router): void {
  router.add('GET', '/metrics', async (_req, ctx) => {
    const m = adminMetrics(metricsSource(ctx))
    return { status: 200, body: await m.render(), headers: { 'content-type': m.contentType } }
  })
}
