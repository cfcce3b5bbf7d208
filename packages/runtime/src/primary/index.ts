/**
 * The primary (nginx's master): loads and validates the config once, creates the zones,
 * seeds checkups, runs `init(ctx)`, forks and supervises the workers, handles signals.
 * It runs no request code.
 *
 * Lifecycle: booting → running → stopping → (process exits 0). A failure while booting
 * rejects run() (nothing was forked yet); the caller decides the exit code.
 */
import { availableParallelism } from 'node:os'
import type { Logger } from 'pino'
import { configDir, configUrl, loadConfig, type LoadedConfig } from '../config.js'
import { announceReload, createCheckups, loadStateSnapshot, startClusterSync, type CheckupsInstance, type ClusterSync } from '../deps.js'
import { RuntimeError } from '../errors.js'
import { createLogger, LOG } from '../logger.js'
import type { PrimaryContext, PrimaryHandle, RunOptions } from '../types.js'
import { createZones, zoneSizes } from '../zones.js'
import { createReaper } from './reaper.js'
import { Reloader } from './reload.js'
import { installPrimarySignals } from './signals.js'
import { Supervisor } from './supervisor.js'

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000
const DEFAULT_READY_TIMEOUT_MS = 30_000

export async function runPrimary(options: RunOptions): Promise<PrimaryHandle> {
  process.title = `${options.title ?? 'checkups'}: primary`
  const logger = createLogger('primary', options.logger)
  const count = workerCount(options.workers)
  const sizes = zoneSizes(options.shared_dicts)
  const validate = options.validate?.bind(options)
  const warn = (warning: string): void => logger.warn({ warning }, LOG.CONFIG_WARNING)
  let loaded = await loadConfig(options.config, undefined, validate, warn)
  let staged: LoadedConfig | undefined
  const { zones, shared, stats } = createZones(sizes)
  const dir = configDir(options.config)
  const checkups = createCheckups({ shared, stats, logger, ...(options.state ? { stateFile: options.state } : {}), ...(dir ? { configDir: dir } : {}) })
  // At start the state file's runtime changes meet the file's upstreams (core's reload rule:
  // changes of upstreams whose file configuration did not change are kept); on reload the
  // zone itself is the state in force (see `apply` below).
  const seed = (config: LoadedConfig['config']): void => {
    const restore = loadStateSnapshot(options.state, config, logger)
    if (restore === undefined) checkups.init(config)
    else checkups.init(config, { restore })
  }
  seed(loaded.config)

  const ctx: { -readonly [K in keyof PrimaryContext]: PrimaryContext[K] } = {
    role: 'primary', shared, config: loaded.config, rawConfig: loaded.raw,
    checkups: checkups as CheckupsInstance, logger,
  }
  await options.init?.(ctx)
  // many nodes (global.cluster_store): the sync agent applies the shared store's changes
  // through the same writer; until it has a snapshot this node serves what it restored above
  const cluster = startClusterSync(loaded.config, { dynamic: checkups.dynamic, config: shared.config, logger: logger.child({ component: 'cluster' }) })

  const isObjectConfig = options.config !== undefined && configUrl(options.config) === undefined
  const supervisor = new Supervisor({
    count, zones, logger,
    reap: createReaper(shared, checkups, logger),
    shutdownTimeout: options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    // during a reload the replacements get the config being reloaded (`staged`)
    configJson: () => (isObjectConfig ? JSON.stringify((staged ?? loaded).raw) : null),
    reload: (): Promise<unknown> => reloader.reload(),
    onListenFailed: (wp, info) => {
      // at start nothing serves yet: one line, stop everything, exit 1 (no respawn loop);
      // later (a reload, a respawn) the old workers keep the ports and serve on
      if (started) return logger.error({ id: wp.id, ...info }, LOG.LISTEN_FAILED)
      if (failing) return
      failing = true
      logger.fatal({ code: info.code, address: info.address, error: info.error }, LOG.LISTEN_FAILED)
      logger.level = 'error' // the stop that follows is routine: keep that one line the last
      void supervisor.stop(false).then(() => process.exit(1))
    },
  })
  let started = false
  let failing = false
  const reloader: Reloader = new Reloader({
    source: options.config, validate, warn, supervisor, count, logger,
    readyTimeout: options.readyTimeout ?? DEFAULT_READY_TIMEOUT_MS,
    stage(next: LoadedConfig | undefined) {
      staged = next
    },
    async apply(next: LoadedConfig) {
      // what is in force (the zone, every acknowledged change) meets the new file under the
      // writers' lock; runtime changes of upstreams the file did not change are kept
      await checkups.reload(next.config)
      cluster?.agent.resync() // with a cluster store its upstreams win over the file's
      announceReload(checkups, shared.config)
      loaded = next
      ctx.config = next.config
      ctx.rawConfig = next.raw
    },
  })
  const stop = (graceful: boolean): Promise<void> => stopAndExit(supervisor, graceful, logger, cluster)
  installPrimarySignals({ reload: () => void reloader.reload(), stop: (g) => void stop(g) }, logger)

  logger.info({ workers: count, zones: Object.fromEntries(sizes), config: describeSource(options) }, LOG.PRIMARY_STARTED)
  const t0 = Date.now()
  const ready = supervisor.start().then(() => {
    started = true
    logger.info({ workers: count, ms: Date.now() - t0 }, LOG.WORKERS_READY)
  })
  return { role: 'primary', ctx, ready, reload: () => reloader.reload(), stop }
}

let exiting: Promise<void> | undefined

function stopAndExit(supervisor: Supervisor, graceful: boolean, logger: Logger, cluster: ClusterSync | undefined): Promise<void> {
  logger.info({ graceful }, LOG.STOP_START)
  const done = supervisor.stop(graceful).then(() => cluster?.stop())
  exiting ??= done.then(() => {
    logger.info({ code: 0 }, LOG.PRIMARY_EXIT)
    process.exit(0)
  })
  return exiting
}

function workerCount(n: number | undefined): number {
  if (n === undefined) return availableParallelism()
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RuntimeError('RT_ERR_INVALID_OPTION', `workers: expected an integer 1..1024, got ${JSON.stringify(n)}`)
  }
  return n
}

function describeSource(options: RunOptions): string {
  const url = configUrl(options.config)
  return url ? url.href : options.config === undefined ? '(none)' : '(object)'
}
