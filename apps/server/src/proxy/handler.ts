/**
 * The request listener: checks → route → readyOk(forward) → commit or error. Each step is its
 * own module; this file only composes them.
 *
 * Invariant: every refusal caused by the request itself (request-check.ts, path.ts) is
 * answered here, before a peer is picked, so it can never count against one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ProxyCall, type CallDeps } from './call.js'
import { httpErrorOf, ProxyError } from './errors.js'
import type { ProxyLimits } from './options.js'
import { normalizePath, splitTarget } from './path.js'
import { checkForRoute, checkHead, hostHeaderOf } from './request-check.js'
import { sendError } from './respond.js'
import { hostOnly, upstreamPath, type RouteTable } from './route.js'

export interface HandlerDeps extends CallDeps {
  readonly routes: RouteTable
  readonly limits: ProxyLimits
}

export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const refuse = (req: IncomingMessage, res: ServerResponse, err: ProxyError): void => {
    const extra = err.code === 'PRX_ERR_METHOD_NOT_ALLOWED' ? { allow: 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS' } : undefined
    sendError(req, res, httpErrorOf(err, undefined), deps.workerHeader ? deps.workerId : undefined, extra)
  }
  return (req, res) => {
    const bad = checkHead(req, deps.limits.maxHeaders)
    if (bad) return refuse(req, res, bad)
    const { path: raw, query } = splitTarget(req.url ?? '/')
    const norm = normalizePath(raw)
    if (!norm.ok) return refuse(req, res, new ProxyError('PRX_ERR_BAD_REQUEST', `bad request: ${norm.reason}`))
    const host = hostHeaderOf(req)
    const route = deps.routes.match(host, norm.path)
    if (!route) return refuse(req, res, new ProxyError('PRX_ERR_NO_ROUTE', `no route for ${hostOnly(host) || '-'}${norm.path}`))
    const refused = checkForRoute(req, route)
    if (refused) return refuse(req, res, refused)
    void new ProxyCall(deps, route, req, res, upstreamPath(route, norm.path, query)).run()
  }
}
