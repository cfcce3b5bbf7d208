import cluster from 'node:cluster'
import { checkNode } from './node-version.js'
import { runPrimary } from './primary/index.js'
import type { PrimaryHandle, RunHandle, RunOptions, WorkerHandle } from './types.js'
import { runWorker } from './worker/index.js'

/**
 * Starts the nginx-style process model. The same script runs in the primary
 * and in every worker; run() calls the hooks that belong to the current process.
 *
 * ```ts
 * await run({ config: new URL('./checkups.config.js', import.meta.url), workers: 4,
 *   initWorker(ctx) { ctx.serve(http.createServer(handler)).listen(8080) } })
 * ```
 * Primary: resolves once the workers are forked (`handle.ready`: all ready).
 * Worker: resolves after `initWorker`.
 */
export function run(options: RunOptions): Promise<RunHandle> {
  if (!cluster.isPrimary) return runWorker(options)
  try {
    checkNode()
  } catch (err) {
    return Promise.reject(err)
  }
  return runPrimary(options)
}

export type { PrimaryHandle, WorkerHandle }
