/**
 * One request of the checkups HTTP client: readyOk's callback runs one attempt per peer, and
 * this object decides what the caller's undici handler finally sees.
 *
 * Invariants
 * - The caller's handler gets `onRequestStart` once (with this exchange's controller), then
 *   exactly one response (start, data*, end) or one `onResponseError`.
 * - An attempt's response that `http_opts.statuses` marks bad, on a request that may be
 *   retried, is *held*: paused, its early chunks buffered. When another attempt starts, the
 *   held one is drained (its body consumed, so the keep-alive connection survives); when
 *   readyOk stops trying, the last held response is relayed as is, as nginx relays the last
 *   peer's answer.
 * - Any other response is relayed at once (committed); from then on no attempt starts: the
 *   next callback returns STOP without touching a peer (readyOk ends on it).
 * - An error before a response is readyOk's failure; it is retried only when safe
 *   (retry.ts), otherwise the next callback returns STOP and the error reaches the handler.
 * - A failure in the middle of a relayed body counts against its peer once (passive
 *   accounting) and reaches the handler as onResponseError.
 */
import type { AttemptContext } from '../try/attempt.js'
import { isConnectError, isRetryableRequest } from './retry.js'

/** undici's DispatchController / DispatchHandler (the v7 handler API), as far as used here. */
export interface Controller {
  abort(reason: Error): void
  pause(): void
  resume(): void
  readonly aborted: boolean
  readonly paused: boolean
  readonly reason: Error | null
}
export interface Handler {
  onRequestStart?(controller: Controller, context: unknown): void
  onRequestUpgrade?(controller: Controller, statusCode: number, headers: Record<string, unknown>, socket: unknown): void
  onResponseStart?(controller: Controller, statusCode: number, headers: Record<string, unknown>, statusMessage?: string): void
  onResponseData?(controller: Controller, chunk: Buffer): void
  onResponseEnd?(controller: Controller, trailers: Record<string, unknown>): void
  onResponseError?(controller: Controller, err: Error): void
}
export interface DispatchOpts { method?: string; body?: unknown; idempotent?: boolean; upgrade?: string | null; [k: string]: unknown }

export interface ExchangeEnv {
  /** http_opts.statuses of the upstream (null: every status is a success) */
  readonly statuses: Readonly<Record<string, boolean>> | null
  /** sends one attempt to the peer of `ctx` */
  send(ctx: AttemptContext, handler: Handler): void
}

export const STOP = Symbol('stop')
export interface AttemptResult { readonly status: number }

type State = 'waiting' | 'held' | 'draining' | 'relayed' | 'done'

class Attempt implements Handler {
  state: State = 'waiting'
  ctrl: Controller | undefined
  status = 0
  headers: Record<string, unknown> = {}
  statusMessage: string | undefined
  readonly early: Buffer[] = []
  ended: Record<string, unknown> | undefined
  error: Error | undefined
  settle!: { resolve(r: AttemptResult): void; reject(e: unknown): void }

  constructor(readonly ex: Exchange, readonly ctx: AttemptContext) {}

  onRequestStart(ctrl: Controller): void {
    this.ctrl = ctrl
    if (this.ex.controller.aborted) ctrl.abort(this.ex.controller.reason ?? new Error('aborted'))
  }

  onResponseStart(ctrl: Controller, status: number, headers: Record<string, unknown>, statusMessage?: string): void {
    this.ctrl = ctrl
    ;[this.status, this.headers, this.statusMessage] = [status, headers, statusMessage]
    const bad = this.ex.env.statuses?.[String(status)] === false
    if (bad && this.ex.retryable) {
      this.state = 'held'
      this.ex.hold(this)
      ctrl.pause()
    } else {
      this.ex.relay(this)
    }
    this.settle.resolve({ status })
  }

  onResponseData(_ctrl: Controller, chunk: Buffer): void {
    if (this.state === 'held') this.early.push(chunk)
    else if (this.state === 'relayed') this.ex.handler.onResponseData?.(this.ex.controller, chunk)
  }

  onResponseEnd(_ctrl: Controller, trailers: Record<string, unknown>): void {
    if (this.state === 'held') this.ended = trailers
    else if (this.state === 'relayed') this.finish(() => this.ex.handler.onResponseEnd?.(this.ex.controller, trailers))
    else this.state = 'done'
  }

  onResponseError(_ctrl: Controller, err: Error): void {
    switch (this.state) {
      case 'waiting':
        this.state = 'done'
        if (!this.ex.retryable && !isConnectError(err)) this.ex.stopWith(err)
        this.settle.reject(err)
        return
      case 'held': this.error = err; return
      case 'relayed':
        this.ctx.report('body_error')
        this.finish(() => this.ex.handler.onResponseError?.(this.ex.controller, err))
        return
      default: this.state = 'done'
    }
  }

  /** the held response is not wanted: consume its body so the connection can be reused */
  drain(): void {
    this.early.length = 0
    if (this.ended !== undefined || this.error !== undefined) this.state = 'done'
    else {
      this.state = 'draining'
      this.ctrl?.resume()
    }
  }

  private finish(fn: () => void): void {
    this.state = 'done'
    fn()
  }
}

export class Exchange {
  readonly retryable: boolean
  readonly controller: Controller
  #held: Attempt | undefined
  #relayed: Attempt | undefined
  #stopError: Error | undefined
  #aborted = false
  #paused = false
  #reason: Error | null = null

  constructor(readonly env: ExchangeEnv, readonly handler: Handler, opts: DispatchOpts) {
    this.retryable = isRetryableRequest(opts.method, opts.body, opts.idempotent)
    const self = this
    this.controller = {
      abort(reason: Error) {
        if (self.#aborted) return
        ;[self.#aborted, self.#reason] = [true, reason]
        ;(self.#relayed ?? self.#held)?.ctrl?.abort(reason)
      },
      pause() { self.#paused = true; self.#relayed?.ctrl?.pause() },
      resume() { self.#paused = false; self.#relayed?.ctrl?.resume() },
      get aborted() { return self.#aborted },
      get paused() { return self.#paused },
      get reason() { return self.#reason },
    }
    handler.onRequestStart?.(this.controller, {})
  }

  /** readyOk's callback: one attempt on the context's peer, or STOP once the answer is decided. */
  attempt(ctx: AttemptContext): Promise<AttemptResult> | typeof STOP {
    if (this.#relayed !== undefined || this.#stopError !== undefined || this.#aborted) return STOP
    this.#held?.drain()
    this.#held = undefined
    const a = new Attempt(this, ctx)
    const p = new Promise<AttemptResult>((resolve, reject) => { a.settle = { resolve, reject } })
    this.env.send(ctx, a)
    return p
  }

  hold(a: Attempt): void {
    this.#held = a
  }

  relay(a: Attempt): void {
    this.#relayed = a
    a.state = 'relayed'
    this.handler.onResponseStart?.(this.controller, a.status, a.headers, a.statusMessage)
    for (const c of a.early.splice(0)) this.handler.onResponseData?.(this.controller, c)
    if (a.error !== undefined) a.onResponseError(a.ctrl!, a.error)
    else if (a.ended !== undefined) a.onResponseEnd(a.ctrl!, a.ended)
    else if (!this.#paused) a.ctrl?.resume()
  }

  stopWith(err: Error): void {
    this.#stopError ??= err
  }

  /** readyOk has finished (resolved or rejected): give the handler its answer. */
  settle(err: unknown): void {
    if (this.#relayed !== undefined) return
    const held = this.#held
    this.#held = undefined
    if (held !== undefined) return this.relay(held)
    const e = this.#stopError ?? (this.#aborted ? this.#reason : undefined) ?? (err instanceof Error ? err : new Error(String(err)))
    this.handler.onResponseError?.(this.controller, e ?? new Error('request failed'))
  }
}
