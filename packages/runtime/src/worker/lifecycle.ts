/**
 * A worker's servers and close hooks, and its graceful stop (nginx's graceful worker
 * shutdown: stop accepting, finish in-flight requests, exit). Connection handling while
 * closing is ServerDrain's (./drain.ts).
 *
 * Lifecycle: starting → running → closing → closed.
 * Invariant: close hooks run after every server closed, last registered first.
 */
import type { Server } from 'node:net'
import { ServerDrain } from './drain.js'

export type WorkerLifecycleState = 'starting' | 'running' | 'closing' | 'closed'

export class WorkerLifecycle {
  #state: WorkerLifecycleState = 'starting'
  readonly #servers = new Map<Server, ServerDrain>()
  readonly #hooks: Array<() => void | Promise<void>> = []
  #closing: Promise<void> | undefined

  get state(): WorkerLifecycleState {
    return this.#state
  }

  serve<S extends Server>(server: S): S {
    if (!this.#servers.has(server)) this.#servers.set(server, new ServerDrain(server))
    return server
  }

  onClose(fn: () => void | Promise<void>): void {
    this.#hooks.push(fn)
  }

  /** Resolves when every served server listens; rejects on a listen error. */
  async listening(): Promise<void> {
    await Promise.all([...this.#servers.keys()].map((s) => waitListening(s)))
  }

  markRunning(): void {
    if (this.#state === 'starting') this.#state = 'running'
  }

  /** Graceful close; idempotent. Hook errors are passed to `onError` and do not stop the close. */
  close(onError: (err: unknown) => void): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing'
      await Promise.all([...this.#servers.values()].map((d) => d.close()))
      for (const fn of [...this.#hooks].reverse()) {
        try {
          await fn()
        } catch (err) {
          onError(err)
        }
      }
      this.#state = 'closed'
    })()
    return this.#closing
  }
}

function waitListening(server: Server): Promise<void> {
  if (server.listening) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const ok = (): void => {
      server.off('error', fail)
      resolve()
    }
    const fail = (err: Error): void => {
      server.off('listening', ok)
      reject(err)
    }
    server.once('listening', ok)
    server.once('error', fail)
  })
}
