/** Public types of @checkups/runtime. */
import type { Server } from 'node:net'
import type { Logger } from 'pino'
import type { CheckupsInstance, Dict, ResolvedConfig, WorkerIdentity } from './deps.js'
import type { LoggerOptions } from './logger.js'

export type { CheckupsInstance, Dict, ResolvedConfig, WorkerIdentity } from './deps.js'

/** A config module (path, file: URL string or URL; its default export) or the config object. */
export type ConfigSource = string | URL | Record<string, unknown>

/** The zones every process sees: the four checkups zones plus any from `shared_dicts`. */
export type SharedZones = { readonly state: Dict; readonly mutex: Dict; readonly locks: Dict; readonly config: Dict } & {
  readonly [zone: string]: Dict
}

/** One row of the primary's worker table (`ctx.workers()`, admin `GET /workers`). */
export interface WorkerInfo {
  id: number
  pid: number
  /** ISO 8601 time the process was forked */
  started: string
  /** how many times this id was respawned after an unexpected exit */
  restarts: number
  /** lifecycle state of the process (extension) */
  state: WorkerState
  /** pid of the primary, the process to send `kill -HUP` to (extension) */
  primary_pid: number
}

/** Lifecycle of one worker process as the primary sees it. `stopping` = a planned exit. */
export type WorkerState = 'starting' | 'ready' | 'stopping' | 'exited'

export interface PrimaryContext {
  readonly role: 'primary'
  readonly shared: SharedZones
  /** the resolved, frozen config (replaced on reload) */
  readonly config: ResolvedConfig
  /** the config as loaded (the module's default export), e.g. for app sections like `server` */
  readonly rawConfig: Readonly<Record<string, unknown>>
  readonly checkups: CheckupsInstance
  readonly logger: Logger
}

export interface WorkerContext {
  readonly role: 'worker'
  readonly worker: WorkerIdentity
  readonly shared: SharedZones
  readonly config: ResolvedConfig
  readonly rawConfig: Readonly<Record<string, unknown>>
  readonly checkups: CheckupsInstance
  readonly logger: Logger
  /** the primary's worker table */
  workers(): Promise<WorkerInfo[]>
  /**
   * Registers a listening server: the worker is reported ready once it listens, and on a
   * graceful stop or reload it stops accepting and finishes its in-flight requests.
   */
  serve<S extends Server>(server: S): S
  /** Runs `fn` when the worker stops gracefully (after its servers closed). */
  onClose(fn: () => void | Promise<void>): void
}

export interface RunOptions {
  config?: ConfigSource
  /** default: os.availableParallelism() */
  workers?: number
  /** zone sizes (bytes or '10m'); merged over the defaults state 10m, mutex 1m, locks 1m, config 10m */
  shared_dicts?: Record<string, number | string>
  /** primary only, before forking (init_by_lua) */
  init?(ctx: PrimaryContext): void | Promise<void>
  /** every worker, after prepareChecker + createChecker (init_worker_by_lua) */
  initWorker?(ctx: WorkerContext): void | Promise<void>
  /**
   * Extra validation of the loaded config (e.g. an app's own section), run in the primary
   * after core's, at start and on every reload: a throw refuses the config.
   */
  validate?(raw: Readonly<Record<string, unknown>>, config: ResolvedConfig): void
  /** state file for dynamic upstreams (persisted by core, restored at start) */
  state?: string
  /** graceful stop: kill a worker that has not finished after this many ms (default 30000) */
  shutdownTimeout?: number
  /** reload: give up on a replacement that is not ready after this many ms (default 30000) */
  readyTimeout?: number
  logger?: LoggerOptions
  /** process titles `<title>: primary` and `<title>: worker <id>` (ps, top); default `checkups` */
  title?: string
}

/** What run() resolves to in the primary. */
export interface PrimaryHandle {
  readonly role: 'primary'
  readonly ctx: PrimaryContext
  /** resolves when every initial worker reported ready */
  readonly ready: Promise<void>
  /** same as SIGHUP */
  reload(): Promise<void>
  /** same as SIGQUIT (graceful) or SIGTERM; the primary process exits when done */
  stop(graceful?: boolean): Promise<void>
}

/** What run() resolves to in a worker (after initWorker). */
export interface WorkerHandle {
  readonly role: 'worker'
  readonly ctx: WorkerContext
}

export type RunHandle = PrimaryHandle | WorkerHandle
