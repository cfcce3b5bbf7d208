/**
 * Rate-limited log lines for errors that repeat at request or round rate (a full `state`
 * zone fails every write): at most one line per message per `everyMs`; the next line that
 * passes carries `suppressed`, the number of lines dropped since the last one.
 * The counters that matter are kept elsewhere (zone slots shown in getStatus); this only
 * keeps the log readable.
 */
import type { Clock } from './clock.js'
import type { Logger } from './zone-types.js'

/** Default spacing of repeated lines, ms. */
export const LOG_EVERY_MS = 10_000

export class LogLimiter {
  readonly #last = new Map<string, { at: number; suppressed: number }>()

  constructor(private readonly clock: Clock, private readonly everyMs = LOG_EVERY_MS) {}

  error(logger: Logger, msg: string, fields: Record<string, unknown> = {}): void {
    const now = this.clock.now()
    const s = this.#last.get(msg)
    if (s !== undefined && now - s.at < this.everyMs) {
      s.suppressed++
      return
    }
    logger.error(s && s.suppressed > 0 ? { ...fields, suppressed: s.suppressed } : fields, msg)
    this.#last.set(msg, { at: now, suppressed: 0 })
  }
}
