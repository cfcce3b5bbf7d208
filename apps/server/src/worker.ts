/**
 * What every worker of apps/server serves, composed here: the admin API, the proxy and, when
 * the config asks for it, the demo backends. The primary validated the config already
 * (config-file.ts), so nothing here refuses input.
 */
import type { WorkerContext } from '@checkups/runtime'
import { createAdminServer } from './admin/server.js'
import { serverConfig, type ServerConfig, type ServerOverrides } from './config-file.js'
import { startDemoIfConfigured } from './demo/index.js'
import { startProxy } from './proxy/index.js'

export async function initServerWorker(ctx: WorkerContext, overrides: ServerOverrides): Promise<void> {
  const server = serverConfig(ctx.rawConfig, overrides)
  startAdmin(ctx, server)
  startProxy(ctx, { ...server.proxy, ...server })
  startDemoIfConfigured(ctx, server, server.listen)
}

function startAdmin(ctx: WorkerContext, server: ServerConfig): void {
  const admin = createAdminServer(
    { worker: ctx.worker, checkups: ctx.checkups, config: ctx.config, workers: () => ctx.workers() },
    { token: server.admin.token, bodyLimit: server.admin.bodyLimit },
  )
  ctx.serve(admin).listen(server.admin.listen.port, server.admin.listen.host)
}
