/**
 * The runtime's use of @checkups/shdict and @checkups/core, in one place: formatting and
 * attaching zones, validating a config, building a process's Checkups (pino's logger passed
 * as is: core logs in pino's shape), and restoring a persisted snapshot.
 */
import {
  Checkups, KEY, createFilePersistence, loadStateFile, parseJsonRefusingKeys, resolveConfig as resolveCoreConfig,
  type CheckupsOptions, type ResolvedConfig,
} from '@checkups/core'
export { STATS_ZONE, STATS_ZONE_BYTES, startClusterSync, type ClusterSync } from '@checkups/core'
import { SharedDict } from '@checkups/shdict'
import type { Logger } from 'pino'
import { LOG } from './logger.js'

export type { ResolvedConfig }
export { parseJsonRefusingKeys }
export type Dict = SharedDict
export type CheckupsInstance = Checkups
/** What the runtime calls on a Checkups instance (the instance itself). */
export type CheckupsLike = Checkups

export interface WorkerIdentity { readonly id: number; readonly count: number; readonly pid: number }

export function formatDict(sab: SharedArrayBuffer): Dict {
  return SharedDict.create(sab)
}

export function attachDict(sab: SharedArrayBuffer): Dict {
  return SharedDict.attach(sab)
}

/** Validates a raw config (throws CKP_ERR_INVALID_CONFIG with a dotted path). */
export function resolveConfig(raw: Record<string, unknown>, onWarning?: (message: string) => void): ResolvedConfig {
  return resolveCoreConfig(raw, { onWarning })
}

export interface CheckupsDeps {
  shared: Record<string, Dict>
  logger: Logger
  worker?: WorkerIdentity
  /** state file for dynamic upstreams (core's createFilePersistence), if any */
  stateFile?: string
  /** the config module's directory (relative `global.nginx_conf` paths) */
  configDir?: string
  /** the statistics zone (shared memory) */
  stats?: SharedArrayBuffer | undefined
}

/** Builds the Checkups instance of this process. */
export function createCheckups(deps: CheckupsDeps): Checkups {
  return new Checkups({
    // the runtime always creates state, mutex, locks and config (Checkups checks them too)
    shared: deps.shared as unknown as CheckupsOptions['shared'],
    logger: deps.logger.child({ component: 'checkups' }),
    ...(deps.worker ? { worker: deps.worker } : {}),
    ...(deps.configDir ? { configDir: deps.configDir } : {}),
    ...(deps.stateFile ? { persistence: createFilePersistence(deps.stateFile) } : {}),
    ...(deps.stats ? { stats: deps.stats } : {}),
  })
}

/** A reload is a config change: one `config` event (op `reload`) with the version it left. */
export function announceReload(checkups: Checkups, config: Dict): void {
  const v = config.get(KEY.CONFIG_VERSION)
  checkups.observer.configChanged({ version: typeof v === 'number' ? v : 0, op: 'reload' })
}

/**
 * The persisted snapshot for `config`, for `checkups.init(config, { restore })`. A refused state
 * file (corrupt, or written for another config: core moved it aside) is logged and skipped.
 */
export function loadStateSnapshot(file: string | undefined, config: ResolvedConfig, logger?: Logger): ReturnType<typeof loadStateFile> {
  if (!file) return undefined
  try {
    const snapshot = loadStateFile(file, config.conf_hash)
    if (snapshot !== undefined) logger?.info({ file, version: snapshot.version }, LOG.STATE_RESTORED)
    return snapshot
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown }
    if (e.code !== 'CKP_ERR_STATE_FILE' || !logger) throw err
    logger.error({ file, code: e.code, reason: e.message }, LOG.STATE_REFUSED)
    return undefined
  }
}
