/**
 * What the primary does for every dead worker before anything else (nginx's
 * ngx_unlock_mutexes): release every zone lock word that still holds the dead pid, and the
 * heartbeat lease it may have held, so the survivors neither deadlock nor wait for a TTL.
 *
 * Invariant: runs for every exit — crash, planned stop or reload — because a planned exit
 * can still be a SIGKILL after a timeout, in the middle of a critical section.
 */
import type { Logger } from 'pino'
import type { CheckupsLike, Dict } from '../deps.js'
import { LOG } from '../logger.js'

export interface Reaper {
  /** `planned`: the primary asked the worker to go, so a released lease is routine (info) */
  (id: number, pid: number, planned?: boolean): void
}

export function createReaper(shared: Readonly<Record<string, Dict>>, checkups: CheckupsLike, logger: Logger): Reaper {
  return (id, pid, planned = false) => {
    for (const [zone, dict] of Object.entries(shared)) {
      try {
        if ((dict as { forceUnlock(pid: number): boolean }).forceUnlock(pid)) logger.warn({ id, deadPid: pid, zone }, LOG.ZONE_UNLOCKED)
      } catch (err) {
        logger.error({ id, deadPid: pid, zone, err }, LOG.UNLOCK_FAILED)
      }
    }
    try {
      if (checkups.onWorkerExit?.(pid) === true) logger[planned ? 'info' : 'warn']({ id, deadPid: pid }, LOG.LEASE_RELEASED)
    } catch (err) {
      logger.error({ id, deadPid: pid, err }, LOG.UNLOCK_FAILED)
    }
  }
}
