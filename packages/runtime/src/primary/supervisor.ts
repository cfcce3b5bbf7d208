/**
 * The primary's worker table (node:cluster's primary.js role): forks the workers with stable
 * ids 0..N-1, answers their IPC requests, reaps and respawns them.
 *
 * Invariants
 * - `slot.current` is the process serving id `slot.id` (undefined only while a respawn is
 *   pending). A reload's replacement becomes current only once it is ready.
 * - Every exit is reaped (zone locks, heartbeat lease) before anything else happens.
 * - Only an unplanned exit of the current process of a slot causes a respawn; a process that
 *   dies before being ready or within CRASH_WINDOW_MS of its start is respawned with a delay
 *   that doubles from BACKOFF_MIN_MS to BACKOFF_MAX_MS; a long-lived one at once.
 * - Every fork inherits the same zone fds (set once with cluster.setupPrimary).
 */
import cluster from 'node:cluster'
import type { Zone } from '@checkups/shm'
import { zoneStdio } from '@checkups/shm'
import type { Logger } from 'pino'
import { RuntimeError } from '../errors.js'
import { ENV, isRuntimeMessage, type ReplyValues, type WorkerMessage } from '../ipc.js'
import { LOG } from '../logger.js'
import type { WorkerInfo } from '../types.js'
import type { Reaper } from './reaper.js'
import { WorkerProcess, type ExitInfo } from './worker-process.js'

export const CRASH_WINDOW_MS = 1000
export const BACKOFF_MIN_MS = 100
export const BACKOFF_MAX_MS = 5000

export type SupervisorState = 'running' | 'stopping' | 'stopped'

interface Slot {
  readonly id: number
  current: WorkerProcess | undefined
  restarts: number
  backoffMs: number
  respawnTimer: NodeJS.Timeout | undefined
  replacing: boolean
}

export interface SupervisorOptions {
  count: number
  zones: readonly Zone[]
  reap: Reaper
  logger: Logger
  shutdownTimeout: number
  /** the object config as JSON for workers (null for a module config) */
  configJson(): string | null
  /** a worker's server could not listen (the worker exits 1 next) */
  onListenFailed?(wp: WorkerProcess, info: { code: string; address: string; error: string }): void
}

export class Supervisor {
  #state: SupervisorState = 'running'
  readonly #slots: Slot[]
  readonly #live = new Set<WorkerProcess>()
  readonly #env: Record<string, string>
  readonly #allReady: Promise<void>
  #resolveAllReady!: () => void
  readonly #stopped: Promise<void>
  #resolveStopped!: () => void

  constructor(private readonly opts: SupervisorOptions) {
    const { stdio, env } = zoneStdio(opts.zones)
    this.#env = env
    cluster.setupPrimary({ stdio: ['inherit', 'inherit', 'inherit', 'ipc', ...stdio] })
    this.#slots = Array.from({ length: opts.count }, (_, id) => ({
      id, current: undefined, restarts: 0, backoffMs: 0, respawnTimer: undefined, replacing: false,
    }))
    this.#allReady = new Promise((res) => (this.#resolveAllReady = res))
    this.#stopped = new Promise((res) => (this.#resolveStopped = res))
  }

  get state(): SupervisorState {
    return this.#state
  }

  /** Forks every worker; resolves when each id has a ready process. */
  start(): Promise<void> {
    for (const slot of this.#slots) slot.current = this.#spawn(slot.id)
    return this.#allReady
  }

  table(): WorkerInfo[] {
    return [...this.#live]
      .sort((a, b) => a.id - b.id || a.started - b.started)
      .map((wp) => ({
        id: wp.id, pid: wp.pid, started: new Date(wp.started).toISOString(),
        restarts: this.#slots[wp.id]?.restarts ?? 0, state: wp.state, primary_pid: process.pid,
      }))
  }

  /**
   * Reload step for one id: fork a replacement, wait until it is ready, make it current,
   * then stop the old process gracefully. On failure the old process keeps serving.
   */
  async replace(id: number, readyTimeout: number): Promise<WorkerProcess> {
    const slot = this.#slot(id)
    const old = slot.current
    if (slot.respawnTimer) clearTimeout(slot.respawnTimer)
    slot.respawnTimer = undefined
    slot.replacing = true
    const fresh = this.#spawn(id)
    try {
      await withTimeout(fresh.ready, readyTimeout, `worker ${id} (pid ${fresh.pid}) not ready after ${readyTimeout} ms`)
    } catch (cause) {
      fresh.stop(false, 1000)
      slot.replacing = false
      if (this.#state === 'running' && (!old || old.state === 'exited')) this.#scheduleRespawn(slot, true)
      throw new RuntimeError('RT_ERR_RELOAD', cause instanceof Error ? cause.message : String(cause), { cause })
    }
    slot.replacing = false
    slot.current = fresh
    old?.stop(true, this.opts.shutdownTimeout)
    return fresh
  }

  /** Stops every worker (graceful: finish in-flight requests); resolves when all are gone. */
  stop(graceful: boolean): Promise<void> {
    const first = this.#state === 'running'
    this.#state = 'stopping'
    for (const slot of this.#slots) {
      if (slot.respawnTimer) clearTimeout(slot.respawnTimer)
      slot.respawnTimer = undefined
    }
    const killAfter = graceful ? this.opts.shutdownTimeout : 5000
    for (const wp of this.#live) wp.stop(graceful, killAfter)
    if (first) {
      setTimeout(() => {
        if (this.#live.size > 0) this.opts.logger.warn({ pids: [...this.#live].map((w) => w.pid) }, LOG.STOP_TIMEOUT)
      }, killAfter).unref()
    }
    this.#checkStopped()
    return this.#stopped
  }

  #slot(id: number): Slot {
    const slot = this.#slots[id]
    if (!slot) throw new RuntimeError('RT_ERR_INVALID_OPTION', `no worker id ${id}`)
    return slot
  }

  #spawn(id: number): WorkerProcess {
    const env = { ...this.#env, [ENV.WORKER_ID]: String(id), [ENV.WORKER_COUNT]: String(this.opts.count) }
    const wp = new WorkerProcess(id, cluster.fork(env))
    this.#live.add(wp)
    wp.handle.on('message', (msg: unknown) => this.#onMessage(wp, msg))
    wp.handle.on('exit', (code: number | null, signal: string | null) => this.#onExit(wp, code, signal))
    wp.handle.on('error', () => {}) // EPIPE when sending to a dying worker; 'exit' follows
    this.opts.logger.info({ id, workerPid: wp.pid }, LOG.WORKER_FORKED)
    return wp
  }

  #onMessage(wp: WorkerProcess, msg: unknown): void {
    if (!isRuntimeMessage<WorkerMessage>(msg)) return
    if (msg.rt === 'ready') {
      wp.markReady()
      this.opts.logger.info({ id: wp.id, workerPid: wp.pid, startMs: Date.now() - wp.started }, LOG.WORKER_READY)
      this.#checkAllReady()
    } else if (msg.rt === 'listen_failed') {
      this.opts.onListenFailed?.(wp, { code: msg.code, address: msg.address, error: msg.error })
    } else if (msg.rt === 'closed') {
      if (wp.handle.isConnected()) wp.handle.send({ rt: 'bye' })
    } else if (msg.rt === 'request') {
      const values: ReplyValues = { workers: this.table(), config: this.opts.configJson() }
      const reply = msg.what in values
        ? { rt: 'reply', rid: msg.rid, ok: true, value: values[msg.what] }
        : { rt: 'reply', rid: msg.rid, ok: false, code: 'RT_ERR_IPC', error: `unknown request ${String(msg.what)}` }
      if (wp.handle.isConnected()) wp.handle.send(reply)
    }
  }

  #onExit(wp: WorkerProcess, code: number | null, signal: string | null): void {
    this.#live.delete(wp)
    const info = wp.markExited(code, signal)
    this.opts.reap(wp.id, wp.pid, info.planned)
    // after the reap: survivors may take the dead worker's heartbeat lease now, not at a poll
    for (const other of this.#live) if (other.handle.isConnected()) other.handle.send({ rt: 'peer-exit', pid: wp.pid })
    const lost = wp.handoffs.closePending()
    if (lost > 0) this.opts.logger.warn({ id: wp.id, deadPid: wp.pid, connections: lost }, LOG.HANDOFFS_CLOSED)
    this.#logExit(wp, info)
    if (this.#state !== 'running') return this.#checkStopped()
    const slot = this.#slots[wp.id]
    if (info.planned || !slot || slot.current !== wp || slot.replacing) return
    const early = info.stateAtExit === 'starting' || Date.now() - wp.started < CRASH_WINDOW_MS
    this.#scheduleRespawn(slot, early)
  }

  #logExit(wp: WorkerProcess, info: ExitInfo): void {
    const fields = { id: wp.id, workerPid: wp.pid, code: info.code, signal: info.signal, state: info.stateAtExit, livedMs: Date.now() - wp.started }
    if (info.planned) this.opts.logger.info(fields, LOG.WORKER_EXITED)
    else this.opts.logger.error(fields, LOG.WORKER_CRASHED)
  }

  #scheduleRespawn(slot: Slot, early: boolean): void {
    slot.backoffMs = early ? Math.min(slot.backoffMs ? slot.backoffMs * 2 : BACKOFF_MIN_MS, BACKOFF_MAX_MS) : 0
    slot.restarts++
    this.opts.logger.warn({ id: slot.id, delayMs: slot.backoffMs, restarts: slot.restarts }, LOG.WORKER_RESPAWN)
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined
      if (this.#state === 'running') slot.current = this.#spawn(slot.id)
    }, slot.backoffMs)
  }

  #checkAllReady(): void {
    if (this.#slots.every((s) => s.current?.state === 'ready')) this.#resolveAllReady()
  }

  #checkStopped(): void {
    if (this.#state === 'stopping' && this.#live.size === 0) {
      this.#state = 'stopped'
      this.#resolveStopped()
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(message)), ms)))
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
