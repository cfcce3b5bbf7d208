/**
 * Publishes this process's own metrics (prom-client's default metrics plus whatever the
 * registry holds) into its block of the statistics zone every `intervalMs`, so a `/metrics`
 * scrape answered by any worker shows the primary and every worker, labelled `worker`.
 *
 * Invariants: one publisher per process, writing only its own block (0 = primary, 1 + id);
 * the timer is unref'd and `stop()` clears it (no handle left at shutdown).
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import { ProcessBlocks } from '@checkups/core'

/** how often a process republishes its block: per-process families lag a scrape by at most this */
export const DEFAULT_PUBLISH_MS = 1000

export interface ProcessMetrics {
  /** publishes a snapshot now (resolves when written) */
  publish(): Promise<void>
  stop(): void
}

export function startProcessMetrics(opts: {
  procs: ProcessBlocks
  worker: number | 'primary'
  registry?: Registry
  intervalMs?: number
}): ProcessMetrics {
  const registry = opts.registry ?? new Registry()
  registry.setDefaultLabels({ worker: String(opts.worker) })
  // a second publisher over the same registry (two admin listeners) must not register them twice
  if (registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) collectDefaultMetrics({ register: registry })
  const block = ProcessBlocks.blockOf(opts.worker)
  const publish = async (): Promise<void> => {
    const json = JSON.stringify(await registry.getMetricsAsJSON())
    opts.procs.put(block, process.pid, json)
  }
  const timer = setInterval(() => void publish().catch(() => undefined), opts.intervalMs ?? DEFAULT_PUBLISH_MS)
  timer.unref()
  void publish().catch(() => undefined)
  return { publish, stop: () => clearInterval(timer) }
}
