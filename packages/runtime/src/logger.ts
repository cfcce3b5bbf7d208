/**
 * Structured logs (pino), one JSON line per event, with the process role on every line:
 * `worker: <id>` in workers, `worker: "primary"` in the primary, plus `pid`.
 *
 * Invariant: `msg` values are the stable strings of LOG below (tests and operators match on
 * them); variable data goes into fields, never into `msg`.
 */
import { createRequire } from 'node:module'
import { pino, type DestinationStream, type Logger } from 'pino'
import { repeatLimiter } from './log-limit.js'

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
  STOP_START: 'stopping',
  STOP_TIMEOUT: 'stop timed out, killing workers',
  PRIMARY_EXIT: 'primary exiting',
  WORKER_CLOSING: 'worker closing',
  WORKER_CLOSED: 'worker closed',
  CLOSE_HOOK_FAILED: 'close hook failed',
  CHECKUPS_STOP_FAILED: 'checkups stop failed',
  STATE_RESTORED: 'dynamic upstreams restored from state file',
  STATE_REFUSED: 'state file refused, starting from the config',
  CONFIG_WARNING: 'config warning',
  LISTEN_FAILED: 'cannot listen',
} as const

export type LogFormat = 'json' | 'pretty'

export interface LoggerOptions {
  /** pino level; default `CHECKUPS_LOG_LEVEL` or `info` */
  level?: string
  /** where lines go; default `stderr` (stdout stays the application's) */
  destination?: 'stdout' | 'stderr'
  /**
   * `json` (one object a line) or `pretty` (human-readable, pino-pretty, loaded on first use);
   * default `CHECKUPS_LOG_FORMAT`, else `pretty` on a terminal and `json` otherwise
   */
  format?: LogFormat
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty']

export function createLogger(role: number | 'primary', opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env['CHECKUPS_LOG_LEVEL'] ?? 'info'
  const fd = opts.destination === 'stdout' ? 1 : 2
  const format = opts.format ?? envFormat() ?? ((fd === 1 ? process.stdout : process.stderr).isTTY ? 'pretty' : 'json')
  // sync: lines are rare (lifecycle events, rate-limited errors) and must not be lost on process.exit().
  const dest = format === 'pretty' ? prettyStream(fd) : pino.destination({ dest: fd, sync: true })
  return pino({ level, base: { pid: process.pid, worker: role }, hooks: { logMethod: repeatLimiter() } }, dest)
}

function envFormat(): LogFormat | undefined {
  const v = process.env['CHECKUPS_LOG_FORMAT']
  return v === 'json' || v === 'pretty' ? v : undefined
}

/** pino-pretty is only needed on a terminal: required on first use, synchronous writes. */
function prettyStream(fd: 1 | 2): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => DestinationStream
  return pretty({
    destination: fd, sync: true, colorize: (fd === 1 ? process.stdout : process.stderr).isTTY === true,
    singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,worker', messageFormat: '[{worker}] {msg}',
  })
}
