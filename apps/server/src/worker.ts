/**
 * What every worker of apps/server serves: the admin API and the proxy (src/proxy, written
 * separately; started only when that module exists).
 */
import type { WorkerContext } from '@checkups/runtime'
import { createAdminServer } from './admin/server.js'
import { serverConfig, type ServerConfig, type ServerOverrides } from './config-file.js'

export async function initServerWorker(ctx: WorkerContext, overrides: ServerOverrides): Promise<void> {
  const server = serverConfig(ctx.rawConfig, overrides)
  startAdmin(ctx, server)
  await startProxyIfPresent(ctx, server)
}

function startAdmin(ctx: WorkerContext, server: ServerConfig): void {
  const admin = createAdminServer(
    { worker: ctx.worker, checkups: ctx.checkups, config: ctx.config, workers: () => ctx.workers() },
    { token: server.admin.token, bodyLimit: server.admin.bodyLimit },
  )
  ctx.serve(admin).listen(server.admin.listen.port, server.admin.listen.host)
}

interface ProxyModule {
  /** starts the proxy listener of this worker; registers it with ctx.serve() */
  startProxy?(ctx: WorkerContext, server: ServerConfig): unknown
}

/**
 * PROXY CALL SITE. src/proxy/index.ts exports `startProxy(ctx, serverConfig)`; until it is
 * built this worker serves the admin API only. (Once it exists, a static import can replace
 * this lookup.)
 */
async function startProxyIfPresent(ctx: WorkerContext, server: ServerConfig): Promise<void> {
  const url = new URL('./proxy/index.js', import.meta.url)
  let mod: ProxyModule
  try {
    mod = (await import(url.href)) as ProxyModule
  } catch (err) {
    const e = err as { code?: string; url?: string; message?: string }
    if (e.code === 'ERR_MODULE_NOT_FOUND' && (e.url === url.href || e.message?.includes(url.pathname))) return
    throw err
  }
  await mod.startProxy?.(ctx, server)
}
