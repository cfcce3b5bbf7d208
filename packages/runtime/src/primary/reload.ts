/**
 * SIGHUP: re-read and validate the config, then replace the workers one by one.
 *
 * Invariants
 * - A config that fails to load or validate changes nothing: one RELOAD_REFUSED line, the
 *   old workers keep serving.
 * - Zones are never touched except through `apply` (checkups makes the new upstreams current
 *   under its writers' lock), and `apply` runs only once every replacement is ready: a reload
 *   that fails (RELOAD_FAILED) leaves the shared config exactly as it was.
 * - At most one reload runs; signals received meanwhile coalesce into one more reload.
 *   `reload()` resolves to the outcome of the last run (admin `POST /reload`).
 * - Ids are replaced in order; a replacement that does not become ready stops the reload
 *   (RELOAD_FAILED) and leaves the remaining old workers in place.
 */
import type { Logger } from 'pino'
import { loadConfig, type LoadedConfig, type Validator, type WarningSink } from '../config.js'
import { RuntimeError } from '../errors.js'
import { LOG } from '../logger.js'
import type { ConfigSource, ReloadResult } from '../types.js'
import type { Supervisor } from './supervisor.js'


export interface ReloaderOptions {
  source: ConfigSource | undefined
  validate: Validator | undefined
  warn?: WarningSink
  supervisor: Supervisor
  count: number
  readyTimeout: number
  logger: Logger
  /** the config the replacements of a running reload start with (undefined: none any more) */
  stage?(loaded: LoadedConfig | undefined): void
  /** makes a validated config current (seeds zones, updates contexts), once workers are ready */
  apply(loaded: LoadedConfig): void | Promise<void>
}

export class Reloader {
  #again = false
  #generation = 0

  constructor(private readonly opts: ReloaderOptions) {}

  #running: Promise<ReloadResult> | undefined

  reload(): Promise<ReloadResult> {
    if (this.#running) {
      this.#again = true
      return this.#running
    }
    this.#running = (async () => {
      let last: ReloadResult
      try {
        do {
          this.#again = false
          last = await this.#reloadOnce()
        } while (this.#again && this.opts.supervisor.state === 'running')
      } finally {
        this.#running = undefined
      }
      return last
    })()
    return this.#running
  }

  async #reloadOnce(): Promise<ReloadResult> {
    const { logger, supervisor } = this.opts
    const generation = ++this.#generation
    const t0 = Date.now()
    logger.info({ generation }, LOG.RELOAD_START)
    let loaded: LoadedConfig
    try {
      loaded = await loadConfig(this.opts.source, generation, this.opts.validate, this.opts.warn)
    } catch (err) {
      const code = err instanceof RuntimeError ? err.code : undefined
      const error = err instanceof Error ? err.message : String(err)
      logger.error({ generation, code, error }, LOG.RELOAD_REFUSED)
      return { outcome: 'refused', generation, code, error }
    }
    this.opts.stage?.(loaded)
    try {
      return await this.#replaceAndApply(loaded, generation, t0)
    } finally {
      this.opts.stage?.(undefined)
    }
  }

  async #replaceAndApply(loaded: LoadedConfig, generation: number, t0: number): Promise<ReloadResult> {
    const { logger, supervisor } = this.opts
    for (let id = 0; id < this.opts.count; id++) {
      if (supervisor.state !== 'running') return { outcome: 'failed', generation, error: 'stopping' }
      try {
        await supervisor.replace(id, this.opts.readyTimeout)
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err)
        if (supervisor.state === 'running') logger.error({ generation, id, error }, LOG.RELOAD_FAILED)
        return { outcome: 'failed', generation, code: 'RT_ERR_RELOAD', error }
      }
    }
    try {
      await this.opts.apply(loaded)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      const error = err instanceof Error ? err.message : String(err)
      logger.error({ generation, code, error }, LOG.RELOAD_APPLY_FAILED)
      return { outcome: 'failed', generation, code: typeof code === 'string' ? code : undefined, error }
    }
    logger.info({ generation, ms: Date.now() - t0, workers: supervisor.table().filter((w) => w.state !== 'stopping') }, LOG.RELOAD_DONE)
    return { outcome: 'done', generation }
  }
}
