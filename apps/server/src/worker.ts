/**
 * What every worker of apps/server serves, composed here: the admin API, the proxy and, when
 * the config asks for it, the demo backends. The primary validated the config already
 * (config-file.ts), so nothing here refuses input.
 */
import type { WorkerContext } from '@checkups/runtime'
import { adminMetrics } from './admin/metrics.js'
import { startProcessMetrics } from './admin/process-metrics.js'
import { createAdminServer } from './admin/server.js'
import { createAccessLog } from './access-log/index.js'
import { requestObserver } from './access-log/observe.js'
import { serverConfig, type ServerConfig, type ServerOverrides } from './config-file.js'
import { startDemoIfConfigured } from './demo/index.js'
import { startProxy } from './proxy/index.js'

export async function initServerWorker(ctx: WorkerContext, overrides: ServerOverrides): Promise<void> {
  const server = serverConfig(ctx.rawConfig, overrides)
  // CHECKUPS_STATS=off: no per-attempt statistics (to measure what they cost, scripts/bench/proxy.mjs)
  if (process.env['CHECKUPS_STATS'] === 'off') ctx.checkups.observer.recording = false
  startAdmin(ctx, server)
  const access = createAccessLog(server.access_log, (err) => ctx.logger.error({ err }, 'access log write failed'))
  ctx.onClose(() => access.close())
  startProxy(ctx, { ...server.proxy, ...server, observe: requestObserver(access, ctx.worker.id, ctx.checkups.observer.recording ? ctx.checkups.observer.recorder : undefined) })
  const proc = startProcessMetrics({ procs: ctx.checkups.observer.procs, worker: ctx.worker.id, registry: adminMetrics().processRegistry })
  ctx.onClose(() => proc.stop())
  startDemoIfConfigured(ctx, server, server.listen)
}

function startAdmin(ctx: WorkerContext, server: ServerConfig): void {
  const admin = createAdminServer(
    { worker: ctx.worker, checkups: ctx.checkups, config: ctx.config, workers: () => ctx.workers(), reload: () => ctx.reload() },
    { token: server.admin.token, readToken: server.admin.readToken, bodyLimit: server.admin.bodyLimit, tls: server.admin.tls, logger: ctx.logger.child({ component: 'audit' }) },
  )
  ctx.serve(admin).listen(server.admin.listen.port, server.admin.listen.host)
}
