/**
 * A worker (nginx's worker process): attaches the inherited zones, loads the config (its own
 * import of the module, or the primary's object config over IPC), prepares checkups, runs
 * `initWorker(ctx)`, waits for its servers to listen, then tells the primary it is ready.
 *
 * Invariants
 * - A failure before ready is logged and exits the process with code 1 (the primary treats
 *   it as a crash at start and backs off); run() never resolves in that case.
 * - SIGHUP, SIGQUIT and SIGINT are the primary's business (a terminal sends them to the
 *   whole process group): workers ignore them and follow the primary's orders. SIGTERM
 *   keeps its default (immediate exit), as nginx's fast shutdown.
 * - A graceful stop exits 0 after servers closed, hooks ran and checkups stopped.
 */
import { configDir, loadConfig, validateConfig, type LoadedConfig } from '../config.js'
import { createCheckups, type CheckupsInstance, type CheckupsLike, type WorkerIdentity } from '../deps.js'
import { RuntimeError } from '../errors.js'
import { ENV } from '../ipc.js'
import { createLogger, LOG, type Logger } from '../logger.js'
import type { RunOptions, WorkerContext, WorkerHandle } from '../types.js'
import { attachZones } from '../zones.js'
import { PrimaryChannel } from './channel.js'
import { WorkerLifecycle } from './lifecycle.js'

export async function runWorker(options: RunOptions): Promise<WorkerHandle> {
  const worker = identity()
  process.title = `${options.title ?? 'checkups'}: worker ${worker.id}`
  const logger = createLogger(worker.id, options.logger)
  process.on('uncaughtExceptionMonitor', (err) => logger.fatal({ err }, LOG.WORKER_UNCAUGHT))
  for (const sig of ['SIGHUP', 'SIGQUIT', 'SIGINT'] as const) process.on(sig, () => {})
  const channel = new PrimaryChannel()
  const lifecycle = new WorkerLifecycle()
  let checkups: CheckupsLike | undefined
  channel.onPeerExit(() => checkups?.onPeerWorkerExit?.())
  channel.onShutdown(() => void shutdown(lifecycle, channel, () => checkups, logger))
  try {
    const { shared, stats } = attachZones()
    const loaded = await workerConfig(options, channel)
    const dir = configDir(options.config)
    checkups = createCheckups({ shared, stats, logger, worker, ...(options.state ? { stateFile: options.state } : {}), ...(dir ? { configDir: dir } : {}) })
    checkups.prepareChecker(loaded.config)
    checkups.createChecker()
    const ctx: WorkerContext = {
      role: 'worker', worker, shared, config: loaded.config, rawConfig: loaded.raw,
      checkups: checkups as CheckupsInstance, logger,
      workers: () => channel.request('workers'),
      serve: (server) => lifecycle.serve(server),
      onClose: (fn) => lifecycle.onClose(fn),
    }
    await options.initWorker?.(ctx)
    await lifecycle.listening()
    lifecycle.markRunning()
    channel.ready()
    return { role: 'worker', ctx }
  } catch (err) {
    const failed = listenFailure(err)
    if (failed) await channel.listenFailed(failed) // the primary logs it once, for all workers
    else logger.fatal({ err }, LOG.WORKER_START_FAILED)
    process.exit(1)
  }
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available',
}

/** A server's listen error (code, `host:port`, one readable sentence), else undefined. */
function listenFailure(err: unknown): { code: string; address: string; error: string } | undefined {
  const e = err as { code?: unknown; syscall?: unknown; address?: unknown; port?: unknown } | null
  if (typeof e?.code !== 'string' || !(e.code in LISTEN_ERRORS) || (e.syscall !== 'listen' && e.syscall !== 'bind')) return undefined
  const host = typeof e.address === 'string' && e.address !== 'null' ? e.address : '0.0.0.0'
  const address = `${host.includes(':') ? `[${host}]` : host}:${String(e.port ?? '?')}`
  return { code: e.code, address, error: `cannot listen on ${address}: ${LISTEN_ERRORS[e.code]}` }
}

function identity(): WorkerIdentity {
  const id = Number(process.env[ENV.WORKER_ID])
  const count = Number(process.env[ENV.WORKER_COUNT])
  if (!Number.isInteger(id) || !Number.isInteger(count)) {
    throw new RuntimeError('RT_ERR_WRONG_PROCESS', `not a runtime worker: ${ENV.WORKER_ID} is not set`)
  }
  return { id, count, pid: process.pid }
}

async function workerConfig(options: RunOptions, channel: PrimaryChannel): Promise<LoadedConfig> {
  const json = await channel.request('config')
  return json === null ? loadConfig(options.config) : validateConfig(JSON.parse(json) as Record<string, unknown>, '(object from primary)')
}

async function shutdown(lifecycle: WorkerLifecycle, channel: PrimaryChannel, checkups: () => CheckupsLike | undefined, logger: Logger): Promise<void> {
  if (lifecycle.state === 'closing' || lifecycle.state === 'closed') return
  const t0 = Date.now()
  logger.info(LOG.WORKER_CLOSING)
  await lifecycle.close((err) => logger.error({ err }, LOG.CLOSE_HOOK_FAILED))
  try {
    await checkups()?.stop?.() // heartbeat rounds, timers and the probe pool end before the exit
  } catch (err) {
    logger.error({ err }, LOG.CHECKUPS_STOP_FAILED)
  }
  await channel.closed()
  logger.info({ ms: Date.now() - t0 }, LOG.WORKER_CLOSED)
  setImmediate(() => process.exit(0)) // let replies to the last IPC messages go out
}
