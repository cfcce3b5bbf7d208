/**
 * The worker's end of the runtime IPC (see ../ipc.ts): requests to the primary with a
 * timeout, the `ready` notice, and the primary's `shutdown` order.
 */
import { RuntimeError, isRuntimeCode } from '../errors.js'
import { isRuntimeMessage, type PrimaryMessage, type ReplyValues, type RequestKind } from '../ipc.js'

const REQUEST_TIMEOUT_MS = 5000
const BYE_TIMEOUT_MS = 2000

interface Pending {
  resolve(value: unknown): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

export class PrimaryChannel {
  #nextRid = 1
  readonly #pending = new Map<number, Pending>()
  #onShutdown: (() => void) | undefined
  #onBye: (() => void) | undefined
  #onPeerExit: ((pid: number) => void) | undefined

  constructor() {
    if (!process.send) throw new RuntimeError('RT_ERR_WRONG_PROCESS', 'not a worker: no IPC channel to the primary')
    process.on('message', (msg: unknown) => this.#onMessage(msg))
  }

  /** Calls `fn` when the primary orders a graceful stop. */
  onShutdown(fn: () => void): void {
    this.#onShutdown = fn
  }

  /** Calls `fn` when the primary reports that another worker exited (and was reaped). */
  onPeerExit(fn: (pid: number) => void): void {
    this.#onPeerExit = fn
  }

  request<K extends RequestKind>(what: K, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ReplyValues[K]> {
    const rid = this.#nextRid++
    return new Promise<ReplyValues[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid)
        reject(new RuntimeError('RT_ERR_IPC', `no answer from the primary to '${what}' within ${timeoutMs} ms`))
      }, timeoutMs)
      timer.unref()
      this.#pending.set(rid, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.#send({ rt: 'request', rid, what }, (err) => {
        if (!err) return
        clearTimeout(timer)
        this.#pending.delete(rid)
        reject(new RuntimeError('RT_ERR_IPC', `cannot reach the primary: ${err.message}`, { cause: err }))
      })
    })
  }

  /** The exit handshake (see ../ipc.ts): resolves on the primary's `bye` (or after a timeout). */
  closed(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, BYE_TIMEOUT_MS)
      this.#onBye = () => {
        clearTimeout(timer)
        resolve()
      }
      this.#send({ rt: 'closed' }, (err) => err && resolve())
    })
  }

  /** Tells the primary a server could not listen; resolves once sent (or the channel is gone). */
  listenFailed(info: { code: string; address: string; error: string }): Promise<void> {
    return new Promise((resolve) => this.#send({ rt: 'listen_failed', ...info }, () => resolve()))
  }

  ready(): void {
    this.#send({ rt: 'ready' }, () => {})
  }

  #send(msg: object, cb: (err: Error | null) => void): void {
    if (!process.connected || !process.send) return cb(new Error('IPC channel closed'))
    process.send(msg, undefined, undefined, (err: Error | null) => cb(err))
  }

  #onMessage(msg: unknown): void {
    if (!isRuntimeMessage<PrimaryMessage>(msg)) return
    if (msg.rt === 'shutdown') return this.#onShutdown?.()
    if (msg.rt === 'bye') return this.#onBye?.()
    if (msg.rt === 'peer-exit') return this.#onPeerExit?.(msg.pid)
    if (msg.rt !== 'reply') return
    const p = this.#pending.get(msg.rid)
    if (!p) return
    this.#pending.delete(msg.rid)
    clearTimeout(p.timer)
    if (msg.ok) p.resolve(msg.value)
    else p.reject(new RuntimeError(isRuntimeCode(msg.code) ? msg.code : 'RT_ERR_IPC', msg.error))
  }
}
