/**
 * Signals to the primary, as nginx's master: HUP reload, TERM/INT fast stop, QUIT graceful
 * stop. A second stop signal while a graceful stop runs escalates to a fast stop.
 */
import type { Logger } from 'pino'
import { LOG } from '../logger.js'

export interface SignalTargets {
  reload(): void
  stop(graceful: boolean): void
}

export function installPrimarySignals(t: SignalTargets, logger: Logger): void {
  const on = (signal: NodeJS.Signals, fn: () => void): void => {
    process.on(signal, () => {
      logger.info({ signal }, LOG.SIGNAL)
      fn()
    })
  }
  on('SIGHUP', () => t.reload())
  on('SIGTERM', () => t.stop(false))
  on('SIGINT', () => t.stop(false))
  on('SIGQUIT', () => t.stop(true))
}
