/**
 * The runtime's view of @checkups/shdict and @checkups/core.
 *
 * Both packages are consumed through this one file so the runtime states exactly what it
 * needs from them (the structural interfaces below). Public types follow the real classes
 * automatically (`Dict`, `CheckupsInstance`): when the packages export them, those types are
 * the packages' own; the structural fallbacks only apply while a package is unfinished.
 */
import * as core from '@checkups/core'
import * as shdict from '@checkups/shdict'
import type { Logger } from 'pino'
import { RuntimeError } from './errors.js'
import { LOG } from './logger.js'

/** What the runtime uses of a zone's SharedDict. */
export interface DictLike {
  readonly buffer: SharedArrayBuffer
  forceUnlock(pid: number): boolean
}

type ShdictModule = typeof shdict
/** The SharedDict class's instance type (structural fallback until @checkups/shdict exports it). */
export type Dict = ShdictModule extends { SharedDict: { attach(sab: SharedArrayBuffer): infer D } } ? D : DictLike

/** What the runtime calls on a Checkups instance. */
export interface CheckupsLike {
  init(config: unknown, opts?: { restore?: unknown }): void
  prepareChecker(config: unknown): void
  createChecker(): void
  stop?(): void
  /** true when it released something the pid held (the heartbeat lease) */
  onWorkerExit?(pid: number): unknown
}

type CoreModule = typeof core
/** The Checkups class's instance type (structural fallback until @checkups/core exports it). */
export type CheckupsInstance = CoreModule extends { Checkups: abstract new (...args: never[]) => infer C } ? C : CheckupsLike
/** The resolved, frozen config (core's ResolvedConfig once it exists). */
export type ResolvedConfig = CoreModule extends { resolveConfig: (raw: never) => infer R } ? R : Readonly<Record<string, unknown>>

export interface WorkerIdentity { readonly id: number; readonly count: number; readonly pid: number }

interface SharedDictStatic {
  create(src: SharedArrayBuffer): DictLike
  attach(src: SharedArrayBuffer): DictLike
}
type CheckupsCtor = new (opts: Record<string, unknown>) => CheckupsLike
interface Persistence { save(snapshot: unknown): void }

const coreExports = core as unknown as Record<string, unknown>
const shdictExports = shdict as unknown as Record<string, unknown>

function sharedDictClass(): SharedDictStatic {
  const cls = shdictExports['SharedDict'] as SharedDictStatic | undefined
  if (!cls) throw new RuntimeError('RT_ERR_ZONE', '@checkups/shdict does not export SharedDict')
  return cls
}

export function formatDict(sab: SharedArrayBuffer): Dict {
  return sharedDictClass().create(sab) as Dict
}

export function attachDict(sab: SharedArrayBuffer): Dict {
  return sharedDictClass().attach(sab) as Dict
}

/** Validates a raw config with core's resolveConfig (identity while core has none). */
export function resolveConfig(raw: Record<string, unknown>): ResolvedConfig {
  const fn = coreExports['resolveConfig'] as ((raw: unknown) => unknown) | undefined
  return (fn ? fn(raw) : raw) as ResolvedConfig
}

export interface CheckupsDeps {
  shared: Record<string, Dict>
  logger: Logger
  worker?: WorkerIdentity
  /** state file for dynamic upstreams (core's createFilePersistence), if any */
  stateFile?: string
  /** the config module's directory (relative `global.nginx_conf` paths) */
  configDir?: string
}

/** Builds the Checkups instance of this process. */
export function createCheckups(deps: CheckupsDeps): CheckupsLike {
  const Ctor = coreExports['Checkups'] as CheckupsCtor | undefined
  if (!Ctor) throw new Error('@checkups/core does not export Checkups')
  const opts: Record<string, unknown> = { shared: deps.shared, logger: coreLogger(deps.logger.child({ component: 'checkups' })) }
  if (deps.worker) opts['worker'] = deps.worker
  if (deps.configDir) opts['configDir'] = deps.configDir
  const persistence = statePersistence(deps.stateFile)
  if (persistence) opts['persistence'] = persistence
  return new Ctor(opts)
}

/** core logs `(msg, fields)`; pino takes `(fields, msg)`. */
function coreLogger(log: Logger): Record<'info' | 'warn' | 'error', (msg: string, fields?: Record<string, unknown>) => void> {
  // `worker` and `pid` are on every line already (logger base); core repeats them.
  const clean = (fields: Record<string, unknown> = {}): Record<string, unknown> => {
    const { worker: _w, pid: _p, ...rest } = fields
    return rest
  }
  return {
    info: (msg, fields) => log.info(clean(fields), msg),
    warn: (msg, fields) => log.warn(clean(fields), msg),
    error: (msg, fields) => log.error(clean(fields), msg),
  }
}

function statePersistence(file: string | undefined): Persistence | undefined {
  if (!file) return undefined
  const make = coreExports['createFilePersistence'] as ((file: string) => Persistence) | undefined
  return make?.(file)
}

/**
 * The persisted snapshot for `config`, for `checkups.init(config, { restore })`. A refused state
 * file (corrupt, or written for another config: core moved it aside) is logged and skipped.
 */
export function loadStateSnapshot(file: string | undefined, config: ResolvedConfig, logger?: Logger): unknown {
  if (!file) return undefined
  const load = coreExports['loadStateFile'] as ((file: string, confHash: unknown) => unknown) | undefined
  const confHash = (config as { conf_hash?: unknown }).conf_hash
  try {
    const snapshot = load?.(file, confHash)
    if (snapshot !== undefined) {
      logger?.info({ file, version: (snapshot as { version?: unknown }).version }, LOG.STATE_RESTORED)
    }
    return snapshot
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown }
    if (e.code !== 'CKP_ERR_STATE_FILE' || !logger) throw err
    logger.error({ file, code: e.code, reason: e.message }, LOG.STATE_REFUSED)
    return undefined
  }
}
