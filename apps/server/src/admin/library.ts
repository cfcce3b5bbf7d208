/**
 * The admin API for services built on `run()` (library mode): the same endpoints as
 * `apps/server`, served by every worker on one shared port.
 *
 * Invariants: binds loopback unless told otherwise; a non-loopback address needs a token
 * (an admin API that anyone on the network can write to is refused, not warned about).
 */
import type { Server } from 'node:http'
import type { WorkerContext } from '@checkups/runtime'
import { isLoopback } from '../listen.js'
import { createAdminServer } from './server.js'
import { adminMetrics } from './metrics.js'
import { startProcessMetrics } from './process-metrics.js'

export interface AdminListenOptions {
  /** default 127.0.0.1 */
  host?: string
  port: number
  /** Bearer token every request must carry (role `write`) */
  token?: string
  /** a token for GET/HEAD only (role `read`) */
  readToken?: string
  /** largest request body in bytes (default 1 MiB) */
  bodyLimit?: number
}

/** Serves the admin API from this worker (call it in `initWorker`, in every worker). */
export function listenAdmin(ctx: WorkerContext, opts: AdminListenOptions): Server {
  const host = opts.host ?? '127.0.0.1'
  if (!isLoopback(host) && !opts.token) {
    throw new Error(`admin API on ${host}:${opts.port} needs a token: refusing to serve it to the network without one`)
  }
  const admin = createAdminServer(
    { worker: ctx.worker, checkups: ctx.checkups, config: ctx.config, workers: () => ctx.workers(), reload: () => ctx.reload() },
    { token: opts.token, readToken: opts.readToken, bodyLimit: opts.bodyLimit ?? 1024 * 1024, logger: ctx.logger.child({ component: 'audit' }) },
  )
  // this worker's process metrics in its shared block, so /metrics from any worker shows it
  const proc = startProcessMetrics({ procs: ctx.checkups.observer.procs, worker: ctx.worker.id, registry: adminMetrics().processRegistry })
  ctx.onClose(() => proc.stop())
  return ctx.serve(admin).listen(opts.port, host)
}
