/**
 * The request listener: checks → route → readyOk(forward) → commit or error. Each step is its
 * own module; this file only composes them.
 *
 * Invariants:
 * - every refusal caused by the request itself (request-check.ts, path.ts) is answered here,
 *   before a peer is picked, so it can never count against one;
 * - an HTTP/1 connection that got a 400 is closed after it, and a request pipelined behind
 *   the refused one (parsed from the same bytes) is dropped unanswered, never forwarded.
 */
import type { Socket } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ProxyCall, type CallDeps } from './call.js'
import { httpErrorOf, ProxyError } from './errors.js'
import type { ProxyLimits } from './options.js'
import { normalizePath, splitTarget } from './path.js'
import { checkForRoute, checkHead, hostHeaderOf } from './request-check.js'
import { sendError } from './respond.js'
import { hostOnly, upstreamPath, type Route, type RouteTable } from './route.js'
import type { RequestObserver } from './types.js'

export type { RequestObserver } from './types.js'

export interface HandlerDeps extends CallDeps {
  readonly routes: RouteTable
  readonly limits: ProxyLimits
  /** one line per request (apps/server/src/access-log), and per-peer byte counts */
  readonly observe?: RequestObserver
}

/** What a request may be forwarded as: its route and target, or the refusal it gets. */
export interface Admitted {
  readonly route: Route
  /** the normalised target for the peer (prefix stripped, query as sent) */
  readonly target: string
}

/**
 * Every check that depends on the request alone, in order: head (field count, Host), target
 * and path normalisation, route, the route's own rules. Shared with the Upgrade path.
 */
export function admit(deps: HandlerDeps, req: IncomingMessage): Admitted | ProxyError {
  const bad = checkHead(req, deps.limits.maxHeaders)
  if (bad) return bad
  const { path: raw, query } = splitTarget(req.url ?? '/')
  const norm = normalizePath(raw)
  if (!norm.ok) return new ProxyError('PRX_ERR_BAD_REQUEST', `bad request: ${norm.reason}`)
  const host = hostHeaderOf(req)
  const route = deps.routes.match(host, norm.path)
  if (!route) return new ProxyError('PRX_ERR_NO_ROUTE', `no route for ${hostOnly(host) || '-'}${norm.path}`)
  return checkForRoute(req, route) ?? { route, target: upstreamPath(route, norm.path, query) }
}

export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const closing = new WeakSet<Socket>()
  const refuse = (req: IncomingMessage, res: ServerResponse, err: ProxyError): void => {
    const extra: Record<string, string> = err.code === 'PRX_ERR_METHOD_NOT_ALLOWED' ? { allow: 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS' } : {}
    const http = httpErrorOf(err, undefined)
    if (http.status === 400 && !('stream' in req)) {
      extra['connection'] = 'close'
      closing.add(req.socket)
    }
    sendError(req, res, http, deps.workerHeader, extra)
  }
  return (req, res) => {
    if (closing.has(req.socket)) {
      res.destroy()
      return
    }
    // checked before the observer may add its X-Request-Id (the head is counted as sent)
    const a = admit(deps, req)
    const refused = a instanceof ProxyError
    const done = deps.observe?.(req, res, refused ? null : a.route.upstream)
    if (refused) {
      refuse(req, res, a)
      done?.(null)
      return
    }
    const call = new ProxyCall(deps, a.route, req, res, a.target)
    done?.(call)
    void call.run()
  }
}
