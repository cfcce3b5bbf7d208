/**
 * The per-worker sync backstop (the original's shd_config_syncer): every
 * `shd_config_timer_interval` s it syncs the worker view (selects already sync on every call,
 * so this only matters for an idle worker) and refreshes its liveness key
 * `KEY.configTimer(id)` with TTL `checkup_timer_overtime` (status: `config_timer`).
 * `stop()` clears the timer and removes the key (the original does the same on exit).
 */
import type { Clock } from './clock.js'
import { KEY } from './keys.js'
import type { Dict } from './zone-types.js'

export class SyncTimer {
  private handle: unknown
  private running = false

  constructor(
    private readonly state: Dict,
    private readonly clock: Clock,
    private readonly workerId: number,
    private readonly sync: () => void,
  ) {}

  start(intervalS: number, overtimeS: number): void {
    if (this.running) return
    this.running = true
    const tick = (): void => {
      if (!this.running) return
      try {
        this.sync()
      } finally {
        this.state.set(KEY.configTimer(this.workerId), true, overtimeS)
        this.handle = this.clock.setTimeout(tick, intervalS * 1000)
      }
    }
    tick()
  }

  stop(): void {
    if (!this.running) return
    this.running = false
    this.clock.clearTimeout(this.handle)
    this.state.delete(KEY.configTimer(this.workerId))
  }
}
