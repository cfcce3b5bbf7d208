/**
 * One forked worker process as the primary tracks it.
 *
 * Lifecycle: starting → ready → stopping → exited (any state may go straight to exited).
 * `stopping` is only entered by the primary asking the process to go (stop, reload); an exit
 * from any other state is a crash. `ready` resolves on the worker's `ready` message and
 * rejects if the process exits first.
 */
import type { Worker } from 'node:cluster'
import type { WorkerState } from '../types.js'
import { guardHandoffs, type HandoffGuard } from './handoff-guard.js'

export interface ExitInfo {
  readonly code: number | null
  readonly signal: string | null
  /** the primary asked for this exit */
  readonly planned: boolean
  /** state at the time of death */
  readonly stateAtExit: WorkerState
}

export class WorkerProcess {
  readonly id: number
  readonly pid: number
  readonly started = Date.now()
  readonly ready: Promise<void>
  readonly exited: Promise<ExitInfo>
  readonly handoffs: HandoffGuard
  #state: WorkerState = 'starting'
  #killTimer: NodeJS.Timeout | undefined
  #resolveReady!: () => void
  #rejectReady!: (err: Error) => void
  #resolveExit!: (info: ExitInfo) => void

  constructor(id: number, readonly handle: Worker) {
    this.id = id
    this.pid = handle.process.pid ?? -1
    this.handoffs = guardHandoffs(handle)
    this.ready = new Promise<void>((res, rej) => {
      this.#resolveReady = res
      this.#rejectReady = rej
    })
    this.ready.catch(() => {}) // observed by whoever awaits it; never an unhandled rejection
    this.exited = new Promise<ExitInfo>((res) => (this.#resolveExit = res))
  }

  get state(): WorkerState {
    return this.#state
  }

  /** The worker said it is ready. */
  markReady(): void {
    if (this.#state !== 'starting') return
    this.#state = 'ready'
    this.#resolveReady()
  }

  /**
   * Asks the process to leave. Graceful: the worker closes its servers and exits by itself;
   * `killAfterMs` bounds that. Otherwise SIGTERM at once (nginx's fast shutdown).
   */
  stop(graceful: boolean, killAfterMs: number): void {
    if (this.#state === 'exited') return
    const first = this.#state !== 'stopping'
    this.#state = 'stopping'
    if (graceful && first && this.handle.isConnected()) {
      try {
        this.handle.send({ rt: 'shutdown' })
      } catch {
        this.signal('SIGTERM')
      }
    } else {
      this.signal('SIGTERM')
    }
    this.#killTimer ??= setTimeout(() => this.signal('SIGKILL'), killAfterMs)
  }

  /** Sends a signal to the process (no-op once it is gone). */
  signal(sig: NodeJS.Signals): void {
    if (this.#state === 'exited') return
    try {
      process.kill(this.pid, sig)
    } catch {
      // already gone; the exit event follows
    }
  }

  /** Called from the cluster 'exit' event. */
  markExited(code: number | null, signal: string | null): ExitInfo {
    const info: ExitInfo = { code, signal, planned: this.#state === 'stopping', stateAtExit: this.#state }
    this.#state = 'exited'
    if (this.#killTimer) clearTimeout(this.#killTimer)
    this.#rejectReady(new Error(`worker ${this.id} (pid ${this.pid}) exited before it was ready`))
    this.#resolveExit(info)
    return info
  }
}
