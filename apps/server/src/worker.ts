/** What every worker of apps/server serves: the admin API and the proxy. */
import type { WorkerContext } from '@checkups/runtime'
import { createAdminServer } from './admin/server.js'
import { serverConfig, type ServerConfig, type ServerOverrides } from './config-file.js'
import { startProxy } from './proxy/index.js'

export async function initServerWorker(ctx: WorkerContext, overrides: ServerOverrides): Promise<void> {
  const server = serverConfig(ctx.rawConfig, overrides)
  startAdmin(ctx, server)
  // the proxy validates its own keys of the section (limits, tls, route policy)
  startProxy(ctx, { ...(ctx.rawConfig['server'] as Record<string, unknown> | undefined), ...server })
}

function startAdmin(ctx: WorkerContext, server: ServerConfig): void {
  const admin = createAdminServer(
    { worker: ctx.worker, checkups: ctx.checkups, config: ctx.config, workers: () => ctx.workers() },
    { token: server.admin.token, bodyLimit: server.admin.bodyLimit },
  )
  ctx.serve(admin).listen(server.admin.listen.port, server.admin.listen.host)
}
