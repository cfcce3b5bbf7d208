/**
 * SIGHUP: re-read and validate the config, then replace the workers one by one.
 *
 * Invariants
 * - A config that fails to load or validate changes nothing: one RELOAD_REFUSED line, the
 *   old workers keep serving.
 * - Zones are never touched except through `apply` (checkups re-seeds its config zone).
 * - At most one reload runs; signals received meanwhile coalesce into one more reload.
 * - Ids are replaced in order; a replacement that does not become ready stops the reload
 *   (RELOAD_FAILED) and leaves the remaining old workers in place.
 */
import type { Logger } from 'pino'
import { loadConfig, type LoadedConfig, type Validator, type WarningSink } from '../config.js'
import { RuntimeError } from '../errors.js'
import { LOG } from '../logger.js'
import type { ConfigSource } from '../types.js'
import type { Supervisor } from './supervisor.js'

export type ReloadState = 'idle' | 'reloading'

export interface ReloaderOptions {
  source: ConfigSource | undefined
  validate: Validator | undefined
  warn?: WarningSink
  supervisor: Supervisor
  count: number
  readyTimeout: number
  logger: Logger
  /** makes a validated config current (seeds zones, updates contexts) */
  apply(loaded: LoadedConfig): void
}

export class Reloader {
  #state: ReloadState = 'idle'
  #again = false
  #generation = 0

  constructor(private readonly opts: ReloaderOptions) {}

  get state(): ReloadState {
    return this.#state
  }

  async reload(): Promise<void> {
    if (this.#state === 'reloading') {
      this.#again = true
      return
    }
    this.#state = 'reloading'
    try {
      do {
        this.#again = false
        await this.#reloadOnce()
      } while (this.#again && this.opts.supervisor.state === 'running')
    } finally {
      this.#state = 'idle'
    }
  }

  async #reloadOnce(): Promise<void> {
    const { logger, supervisor } = this.opts
    const generation = ++this.#generation
    const t0 = Date.now()
    logger.info({ generation }, LOG.RELOAD_START)
    try {
      this.opts.apply(await loadConfig(this.opts.source, generation, this.opts.validate, this.opts.warn))
    } catch (err) {
      const code = err instanceof RuntimeError ? err.code : undefined
      logger.error({ generation, code, error: err instanceof Error ? err.message : String(err) }, LOG.RELOAD_REFUSED)
      return
    }
    for (let id = 0; id < this.opts.count; id++) {
      if (supervisor.state !== 'running') return
      try {
        await supervisor.replace(id, this.opts.readyTimeout)
      } catch (err) {
        if (supervisor.state === 'running') logger.error({ generation, id, error: err instanceof Error ? err.message : String(err) }, LOG.RELOAD_FAILED)
        return
      }
    }
    logger.info({ generation, ms: Date.now() - t0, workers: supervisor.table().filter((w) => w.state !== 'stopping') }, LOG.RELOAD_DONE)
  }
}
