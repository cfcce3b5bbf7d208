/**
 * Rate limit for warn/error/fatal log lines: an identical line repeated within
 * REPEAT_WINDOW_MS is written once, and the repeats are summed into one more line with
 * `repeated: <n>` when the window closes (a storm of 503s writes a few lines a second, not
 * 60 MB in 8 s).
 *
 * Invariants
 * - "Identical" = same level, same `msg`, same fields except VOLATILE ones (timings, ids).
 * - The first line of a window is written at once: a new problem is never delayed.
 * - Summaries are never lost on exit (flushed from process 'exit'); at most MAX_KEYS distinct
 *   lines are tracked at a time, anything beyond is written unlimited.
 * - Lines below warn are untouched (lifecycle info lines are rare and each one matters).
 */
import type { LoggerOptions as PinoOptions } from 'pino'

export const REPEAT_WINDOW_MS = 5000
const MAX_KEYS = 1000
const WARN_LEVEL = 40
const VOLATILE = new Set(['time', 'ms', 'latencyMs', 'durationMs', 'elapsed', 'elapsedMs', 'reqId', 'requestId', 'livedMs'])

interface Window { count: number; fields: Record<string, unknown>; msg: string; write: (obj: object, msg: string) => void; timer: NodeJS.Timeout }

type LogMethod = (this: unknown, ...args: unknown[]) => void

function keyOf(level: number, fields: Record<string, unknown>, msg: string): string {
  const stable = Object.keys(fields).filter((k) => !VOLATILE.has(k)).sort()
  const json = JSON.stringify(stable.map((k) => [k, fields[k]]), (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v))
  return `${level}\u0000${msg}\u0000${json.slice(0, 2000)}`
}

/** The pino `hooks.logMethod` that collapses repeats (one limiter per process). */
export function repeatLimiter(windowMs = REPEAT_WINDOW_MS): NonNullable<PinoOptions['hooks']>['logMethod'] {
  const windows = new Map<string, Window>()
  const flush = (key: string): void => {
    const w = windows.get(key)
    if (!w) return
    windows.delete(key)
    clearTimeout(w.timer)
    if (w.count > 0) w.write({ ...w.fields, repeated: w.count, windowMs }, w.msg)
  }
  process.once('exit', () => {
    for (const key of [...windows.keys()]) flush(key)
  })
  return function logMethod(this: unknown, args: unknown[], method: LogMethod, level: number): void {
    if (level < WARN_LEVEL) return method.apply(this, args)
    const first = args[0]
    const fields = typeof first === 'object' && first !== null && !(first instanceof Error) ? (first as Record<string, unknown>) : {}
    const msgArg = typeof first === 'string' ? first : args[1]
    if (typeof msgArg !== 'string' || args.length > 2) return method.apply(this, args)
    const key = keyOf(level, first instanceof Error ? { err: first } : fields, msgArg)
    const w = windows.get(key)
    if (w) {
      w.count++
      return
    }
    if (windows.size < MAX_KEYS) {
      const write = (obj: object, msg: string): void => method.apply(this, [obj, msg])
      const timer = setTimeout(() => flush(key), windowMs)
      timer.unref()
      windows.set(key, { count: 0, fields: first instanceof Error ? { err: first } : fields, msg: msgArg, write, timer })
    }
    method.apply(this, args)
  }
}
