/**
 * Every admin endpoint group. A group is a module that exports `register(router)`; add new
 * ones to ROUTE_MODULES (one line each).
 */
import type { Router } from '../router.js'
import * as workers from './workers.js'
import * as upstreams from './upstreams.js'
import * as peer from './peer.js'
import * as feedback from './feedback.js'
import * as timeout from './timeout.js'
import * as metrics from './metrics.js'
import * as stats from './stats.js'
import * as events from './events.js'
import * as dashboard from './dashboard.js'
import * as openapi from './openapi.js'

export interface RouteModule {
  register(router: Router): void
}

export const ROUTE_MODULES: readonly RouteModule[] = [workers, upstreams, peer, feedback, timeout, metrics, stats, events, dashboard, openapi]

export function registerAll(router: Router): Router {
  for (const mod of ROUTE_MODULES) mod.register(router)
  return router
}
