/**
 * What the proxy needs from its surroundings, stated structurally so the proxy compiles and is
 * testable against any object with these members: the runtime's worker ctx, or a test's
 * minimal ctx over a Checkups instance built on plain-SAB zones.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Server } from 'node:net'
import type { AttemptContext, Logger, ReadyOkOptions, UpstreamTlsInput } from '@checkups/core'

/** The part of @checkups/core's Checkups the data path calls. */
export interface ProxyCheckups {
  readyOk<T>(
    skey: string,
    cb: (host: string, port: number, ctx: AttemptContext) => T | Promise<T>,
    opts?: ReadyOkOptions,
  ): Promise<T>
  /** [connect, send, read] in seconds, or undefined for an unknown skey */
  getUpsTimeout(skey: string): readonly [number, number, number] | undefined
  feedbackStatus?(skey: string, host: string, port: number, failed: boolean): void
  /** the resolved upstream (scheme and tls are read from it) */
  getUpstream?(skey: string): { readonly scheme?: string | null; readonly tls?: UpstreamTlsConfig | null } | undefined
  /** the hostname an address of `skey` was resolved from (global.dns): TLS's server name for it */
  dnsNameOf?(skey: string, host: string): string | undefined
  /** a fresh heartbeat round on the leader (the demo backends call it once they listen) */
  checkNow?(): Promise<boolean>
}

/** An upstream's `tls` section (file paths). */
export type UpstreamTlsConfig = UpstreamTlsInput

/** The proxy logs in the one logger shape of every package (core's `Logger`: pino's order). */
export type ProxyLogger = Logger

export interface ProxyContext {
  readonly checkups: ProxyCheckups
  readonly worker?: { readonly id: number } | undefined
  readonly logger?: ProxyLogger | undefined
  /** runtime: registers the server for readiness and graceful close */
  serve?<S extends Server>(server: S): S
  /** runtime: runs fn on graceful stop, after the servers closed */
  onClose?(fn: () => void | Promise<void>): void
  /** runtime: the config module's default export (the demo reads `server.demo` from it) */
  readonly rawConfig?: Readonly<Record<string, unknown>> | undefined
}

/** One entry of `server.routes` (policy keys: see options.ts `routeSchema`). */
export interface RouteConfig {
  readonly [option: string]: unknown
  /** Host header to match (port ignored, case-insensitive); `*.example.com` matches subdomains */
  readonly host?: string | null | undefined
  /** plain string prefix of the path, as an nginx prefix location; default `/` */
  readonly path_prefix?: string | null | undefined
  /** upstream key (skey) */
  readonly upstream: string
  /** remove path_prefix from the path before forwarding */
  readonly strip_prefix?: boolean | null | undefined
}

/**
 * Called when a request arrives (before it is forwarded: it may add `x-request-id`); the
 * function it returns learns the call serving it (null: none) and reports at the end.
 */
export type RequestObserver = (req: IncomingMessage, res: ServerResponse, upstream: string | null) =>
  ((call: ObservedCall | null) => void)

/** What an observer reads of a call once its exchange is over. */
export interface ObservedCall {
  readonly attempts: number
  /** `host:port` of the peer whose response the client got, or null */
  readonly peer: string | null
  /** that peer's host and port (no string to split), or null / 0 */
  readonly peerHost: string | null
  readonly peerPort: number
}

/** The `server` section as far as the proxy reads it. */
export interface ProxyServerConfig {
  /** `host:port` (`[::1]:8080` for IPv6) or an already parsed address; default 127.0.0.1:8080 */
  readonly listen?: string | { readonly host: string; readonly port: number } | undefined
  /** validated here (compileRoutes); the app's config loader passes them through unchecked */
  readonly routes?: readonly unknown[] | undefined
  /**
   * Listener limits, TLS and defaults (options.ts): headers_timeout, request_timeout,
   * keepalive_timeout, max_connections, max_headers, max_body_size, websocket_idle_timeout,
   * worker_header, http2, tls, streams
   */
  readonly [option: string]: unknown
  /** access log / per-peer bytes hook (apps/server/src/access-log/observe.ts) */
  readonly observe?: RequestObserver | undefined
  /** admin listener, only used to print the URLs to try with the demo */
  readonly admin?: { readonly listen?: { readonly host: string; readonly port: number } | string } | undefined
}
