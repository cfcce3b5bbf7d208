/**
 * @checkups/runtime — nginx's master/worker process model for Node.js.
 * Layout follows node:cluster: `primary/*` (supervisor, reload, signals, reaper) and
 * `worker/*` (IPC channel, lifecycle); `run()` dispatches on the process role.
 */
export { run } from './run.js'
export { importConfig } from './config.js'
export { SUPPORTED_NODE, checkNode, nodeSupport, type NodeSupport } from './node-version.js'
export { RuntimeError, RuntimeErrorCodes, type RuntimeErrorCode } from './errors.js'
export { LOG, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LoggerOptions } from './logger.js'
export { DEFAULT_SHARED_DICTS, zoneSizes } from './zones.js'
export { BACKOFF_MAX_MS, BACKOFF_MIN_MS, CRASH_WINDOW_MS } from './primary/supervisor.js'
export type {
  CheckupsInstance, ConfigSource, Dict, PrimaryContext, PrimaryHandle, ResolvedConfig, RunHandle, RunOptions,
  SharedZones, WorkerContext, WorkerHandle, WorkerIdentity, WorkerInfo, WorkerState,
} from './types.js'
