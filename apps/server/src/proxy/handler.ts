/**
 * The request listener: route → readyOk(forward) → commit or error. Each step is its own
 * module; this file only composes them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ProxyCall, type CallDeps } from './call.js'
import { httpErrorOf, ProxyError } from './errors.js'
import { sendError } from './respond.js'
import { hostOnly, pathOf, type RouteTable } from './route.js'
import type { RequestObserver } from './types.js'

export type { RequestObserver } from './types.js'

export interface HandlerDeps extends CallDeps {
  readonly routes: RouteTable
  /** one line per request (apps/server/src/access-log), and per-peer byte counts */
  readonly observe?: RequestObserver
}

export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '/'
    const path = pathOf(url)
    const route = deps.routes.match(req.headers.host, path)
    const done = deps.observe?.(req, res, route?.upstream ?? null)
    if (!route) {
      const where = `${hostOnly(req.headers.host) || '-'}${path}`
      sendError(req, res, httpErrorOf(new ProxyError('PRX_ERR_NO_ROUTE', `no route for ${where}`), undefined), deps.workerId)
      done?.(null)
      return
    }
    const call = new ProxyCall(deps, route, req, res)
    done?.(call)
    void call.run()
  }
}
