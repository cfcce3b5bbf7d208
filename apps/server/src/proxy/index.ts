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
import { createServer as createHttpsServer } from 'node:https'
import { createSecureServer } from 'node:http2'
import { listenerTlsOptions } from './listener-tls.js'
import { createHandler } from './handler.js'
import { createUpgradeHandler } from './upgrade.js'
import { parseStreams, startStreams } from './streams.js'
import { createTlsResolver } from './upstream-tls.js'
import { PoolCache } from './pools.js'
import { parseLimits, type ProxyLimits } from './options.js'
import { compileRoutes } from './route.js'
import { parseListen } from '../listen.js'
import type { ProxyContext, ProxyServerConfig } from './types.js'

export { ProxyError, ProxyErrorCodes, type ProxyErrorCode } from './errors.js'
export type { ProxyCheckups, ProxyContext, ProxyServerConfig, RouteConfig } from './types.js'
export { compileRoutes } from './route.js'

export const DEFAULT_PROXY_LISTEN = '127.0.0.1:8080'

/** node:net's `reusePort` listen option exists from Node 22.12 / 23.1 (older ones ignore it) */
export const REUSE_PORT = ((major, minor) => major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12))(
  ...(process.versions.node.split('.').map(Number) as [number, number]),
)

/** `host:port`, `[v6]:port` or `:port` (or an already parsed address): the app's one parser. */
export { parseListen }

/** node:http server options from the limits (see options.ts for the defaults and why). */
function listenerOptions(limits: ProxyLimits): { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number; requireHostHeader: boolean } {
  return {
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // how often Node looks for connections past headers/request timeout: well below both
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, limits.headersTimeoutMs / 4)),
    // request-check.ts answers a missing Host itself (and closes the connection after it)
    requireHostHeader: false,
  }
}

/**
 * HTTP/2 by ALPN with HTTP/1.1 beside it (`allowHTTP1`); both kinds of request reach the same
 * handler through the compatibility API. Idle sessions are closed after keepalive_timeout.
 */
function h2Server(limits: ProxyLimits, handler: ReturnType<typeof createHandler>): Server {
  const tls = listenerTlsOptions(limits.tls as NonNullable<ProxyLimits['tls']>)
  const server = createSecureServer({ ...tls, ALPNProtocols: ['h2', 'http/1.1'], allowHTTP1: true, maxSessionMemory: 32 }, handler as never)
  server.setTimeout(limits.keepAliveTimeoutMs)
  return server as unknown as Server
}

function applyLimits(server: Server, limits: ProxyLimits): void {
  // one above the limit, so the request handler sees an excess and answers 431 (at the limit
  // Node would drop the extra fields silently)
  server.maxHeadersCount = limits.maxHeaders + 1
  server.maxConnections = limits.maxConnections
}

/**
 * Creates the proxy server, starts listening and returns it. With a runtime ctx the server is
 * registered through `ctx.serve` (readiness + graceful close); its upstream pools are closed
 * when the server closes.
 */
export function startProxy(ctx: ProxyContext, serverConfig: ProxyServerConfig = {}): Server {
  const limits = parseLimits(serverConfig as Readonly<Record<string, unknown>>)
  const routes = compileRoutes(serverConfig.routes, { maxBodySize: limits.maxBodySize })
  const streamOpts = parseStreams(serverConfig['streams'])
  const { host, port } = parseListen(serverConfig.listen ?? DEFAULT_PROXY_LISTEN)
  const pools = new PoolCache(undefined, limits.upstreamPipelining)
  const tlsOf = createTlsResolver(ctx.checkups)
  const deps = {
    checkups: ctx.checkups,
    routes,
    limits,
    pools,
    tlsOf,
    workerHeader: limits.workerHeader ? String(ctx.worker?.id ?? 0) : undefined,
    proto: limits.tls ? 'https' : 'http',
    logger: ctx.logger,
    ...(serverConfig.observe ? { observe: serverConfig.observe } : {}),
  }
  const handler = createHandler(deps)
  // an https.Server has the http.Server API the callers use (address, close, connections)
  const server = limits.tls
    ? limits.http2
      ? h2Server(limits, handler)
      : (createHttpsServer({ ...listenerOptions(limits), ...listenerTlsOptions(limits.tls) }, handler) as unknown as Server)
    : createServer(listenerOptions(limits), handler)
  applyLimits(server, limits)
  server.on('upgrade', createUpgradeHandler(deps, deps.tlsOf))
  server.on('close', () => void pools.close())
  if (ctx.serve) ctx.serve(server)
  server.once('listening', () => {
    const addr = server.address()
    const at = addr && typeof addr === 'object' ? `${addr.address}:${addr.port}` : `${host}:${port}`
    ctx.logger?.info({ event: 'proxy_listening', listen: at, tls: limits.tls !== undefined, routes: routes.routes.length, reuse_port: limits.reusePort && REUSE_PORT }, 'proxy listening')
    if (limits.reusePort && !REUSE_PORT) ctx.logger?.warn({ event: 'proxy_reuse_port_unsupported', node: process.version }, 'server.reuse_port: needs Node >= 22.12 (ignored: the workers share the primary\'s socket)')
  })
  server.listen(limits.reusePort && REUSE_PORT ? { port, host, reusePort: true } : { port, host })
  const streams = startStreams(ctx, streamOpts, tlsOf, (l) => parseListen(l, 'server.streams[].listen'))
  if (streams.length > 0) server.on('close', () => streams.forEach((s) => s.close()))
  return server
}
