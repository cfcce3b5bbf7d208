/**
 * Structured logs (pino), one JSON line per event, with the process role on every line:
 * `worker: <id>` in workers, `worker: "primary"` in the primary, plus `pid`.
 *
 * Invariant: `msg` values are the stable strings of LOG below (tests and operators match on
 * them); variable data goes into fields, never into `msg`.
 */
import { pino, type Logger } from 'pino'

export type { Logger } from 'pino'

/** Every message the runtime logs. New ones may be added; existing ones are never reworded. */
export const LOG = {
  PRIMARY_STARTED: 'primary started',
  WORKER_FORKED: 'worker forked',
  WORKER_READY: 'worker ready',
  WORKERS_READY: 'all workers ready',
  WORKER_EXITED: 'worker exited',
  WORKER_CRASHED: 'worker crashed',
  WORKER_RESPAWN: 'worker respawn scheduled',
  WORKER_START_FAILED: 'worker start failed',
  WORKER_UNCAUGHT: 'worker uncaught exception',
  ZONE_UNLOCKED: 'zone lock released from dead worker',
  LEASE_RELEASED: 'heartbeat lease released from dead worker',
  HANDOFFS_CLOSED: 'closed connections handed to a dead worker',
  UNLOCK_FAILED: 'unlocking after worker exit failed',
  SIGNAL: 'signal received',
  RELOAD_START: 'reload started',
  RELOAD_REFUSED: 'reload refused: invalid config',
  RELOAD_FAILED: 'reload failed: replacement worker not ready',
  RELOAD_DONE: 'reload done',
  RELOAD_APPLY_FAILED: 'reload failed: the shared config could not be updated',
  STOP_START: 'stopping',
  STOP_TIMEOUT: 'stop timed out, killing workers',
  PRIMARY_EXIT: 'primary exiting',
  WORKER_CLOSING: 'worker closing',
  WORKER_CLOSED: 'worker closed',
  CLOSE_HOOK_FAILED: 'close hook failed',
  CHECKUPS_STOP_FAILED: 'checkups stop failed',
  STATE_RESTORED: 'dynamic upstreams restored from state file',
  STATE_REFUSED: 'state file refused, starting from the config',
} as const

export interface LoggerOptions {
  /** pino level; default `CHECKUPS_LOG_LEVEL` or `info` */
  level?: string
  /** where lines go; default `stderr` (stdout stays the application's) */
  destination?: 'stdout' | 'stderr'
}

export function createLogger(role: number | 'primary', opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env['CHECKUPS_LOG_LEVEL'] ?? 'info'
  // sync: lines are rare (lifecycle events) and must not be lost on process.exit().
  const dest = pino.destination({ dest: opts.destination === 'stdout' ? 1 : 2, sync: true })
  return pino({ level, base: { pid: process.pid, worker: role } }, dest)
}
