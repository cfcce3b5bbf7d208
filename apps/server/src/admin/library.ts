/**
 * The admin API for services built on `run()` (library mode): the same endpoints as
 * `apps/server`, served by every worker on one shared port.
 *
 * Invariants: binds loopback unless told otherwise; a non-loopback address needs a token
 * (an admin API that anyone on the network can write to is refused, not warned about).
 */
import type { Server } from 'node:http'
import { isIP } from 'node:net'
import type { WorkerContext } from '@checkups/runtime'
import { createAdminServer } from './server.js'
import { adminMetrics } from './metrics.js'
import { startProcessMetrics } from './process-metrics.js'

export interface AdminListenOptions {
  /** default 127.0.0.1 */
  host?: string
  port: number
  /** Bearer token every request must carry */
  token?: string
  /** largest request body in bytes (default 1 MiB) */
  bodyLimit?: number
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))

/** Serves the admin API from this worker (call it in `initWorker`, in every worker). */
export function listenAdmin(ctx: WorkerContext, opts: AdminListenOptions): Server {
  const host = opts.host ?? '127.0.0.1'
  if (!isLoopback(host) && !opts.token) {
    throw new Error(`admin API on ${host}:${opts.port} needs a token: refusing to serve it to the network without one`)
  }
  const admin = createAdminServer(
    { worker: ctx.worker, checkups: ctx.checkups, config: ctx.config, workers: () => ctx.workers() },
    { token: opts.token, bodyLimit: opts.bodyLimit ?? 1024 * 1024, logger: ctx.logger.child({ component: 'audit' }) },
  )
  // this worker's process metrics in its shared block, so /metrics from any worker shows it
  const proc = startProcessMetrics({ procs: ctx.checkups.observer.procs, worker: ctx.worker.id, registry: adminMetrics().processRegistry })
  ctx.onClose(() => proc.stop())
  return ctx.serve(admin).listen(opts.port, host)
}
