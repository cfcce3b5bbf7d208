/**
 * The reverse proxy (data plane): `startProxy(ctx, serverConfig)` listens on
 * `serverConfig.listen` and forwards each request through `ctx.checkups.readyOk`.
 *
 * Steps (each its own module): route.ts (host / longest prefix → upstream key) →
 * call.ts (readyOk callback; retry/safe.ts decides replays) → forward.ts (undici dispatch to
 * the peer's keep-alive pool from pools.ts, response held until judged) → headers.ts
 * (hop-by-hop removal, X-Forwarded-*) → respond.ts / errors.ts (404/502/503/504).
 *
 * @example
 *   const server = startProxy(ctx, { listen: '127.0.0.1:8080', routes: [{ path_prefix: '/', upstream: 'api' }] })
 */
import { createServer, type Server } from 'node:http'
import { createHandler } from './handler.js'
import { PoolCache } from './pools.js'
import { compileRoutes } from './route.js'
import { parseListen } from '../listen.js'
import type { ProxyContext, ProxyServerConfig } from './types.js'

export { ProxyError, ProxyErrorCodes, type ProxyErrorCode } from './errors.js'
export type { ProxyCheckups, ProxyContext, ProxyServerConfig, RouteConfig } from './types.js'
export { compileRoutes } from './route.js'

export const DEFAULT_PROXY_LISTEN = '127.0.0.1:8080'

/** `host:port`, `[v6]:port` or `:port` (or an already parsed address): the app's one parser. */
export { parseListen }

/**
 * Creates the proxy server, starts listening and returns it. With a runtime ctx the server is
 * registered through `ctx.serve` (readiness + graceful close); its upstream pools are closed
 * when the server closes.
 */
export function startProxy(ctx: ProxyContext, serverConfig: ProxyServerConfig = {}): Server {
  const routes = compileRoutes(serverConfig.routes)
  const { host, port } = parseListen(serverConfig.listen ?? DEFAULT_PROXY_LISTEN)
  const pools = new PoolCache()
  const handler = createHandler({
    checkups: ctx.checkups,
    routes,
    pools,
    workerId: String(ctx.worker?.id ?? 0),
    proto: 'http',
    logger: ctx.logger,
  })
  const server = createServer({ keepAliveTimeout: 5_000 }, handler)
  server.on('close', () => void pools.close())
  if (ctx.serve) ctx.serve(server)
  server.once('listening', () => {
    const addr = server.address()
    const at = addr && typeof addr === 'object' ? `${addr.address}:${addr.port}` : `${host}:${port}`
    ctx.logger?.info({ event: 'proxy_listening', listen: at, routes: routes.routes.length }, 'proxy listening')
  })
  server.listen(port, host)
  return server
}
