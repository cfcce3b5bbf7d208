/**
 * One attempt: send the request to one peer and hold its response until it is judged.
 *
 * Invariants:
 * - `forward()` resolves when the peer's response headers arrive (1xx skipped) and rejects
 *   on any failure before that (connect, send, read timeout, reset). The upstream socket is
 *   paused at that moment: no body byte is read, buffered or sent to the client yet.
 * - The held response then ends in exactly one of:
 *   `commit(res, headers)` — status + headers written, body streamed to the client with
 *   backpressure (the peer is paused while the client socket is full);
 *   `discard()` — the body is read and dropped so the connection can be reused, or the
 *   exchange is aborted when the body is large;
 *   `abort(err)` — the exchange is cut (client went away).
 * - A failure after commit cannot change the status any more: the client response is
 *   destroyed so the client sees a truncated message, never a silently short one.
 */
import type { ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'

/** Above this many bytes a discarded body is not drained but its connection dropped. */
const DISCARD_DRAIN_LIMIT = 256 * 1024

export interface ForwardRequest {
  readonly method: string
  readonly path: string
  readonly headers: string[]
  readonly body: Readable | null
  /** ms waiting for response headers; undici also runs it while writing the body (refreshed on backpressure) */
  readonly headersTimeout: number
  /** ms idle between response body chunks */
  readonly bodyTimeout: number
}

type Mode = 'waiting' | 'held' | 'committed' | 'discarding' | 'done'

/**
 * The exchange with one peer, as an undici dispatch handler. It implements undici's
 * callback-style handler (onConnect/onHeaders/onData/onComplete/onError), the one undici
 * drives natively: raw header buffers, no per-response header object, no wrapper.
 */
export class UpstreamResponse {
  status = 0
  /** the peer's raw response headers, [name, value, ...] */
  rawHeaders: Buffer[] = []
  /** called when a committed body fails mid-stream (not on a client abort) */
  onBodyError: ((err: Error) => void) | undefined
  #mode: Mode = 'waiting'
  #abortFn: ((err: Error) => void) | undefined
  #resume: (() => void) | undefined
  #paused = false
  #res: ServerResponse | undefined
  #drained = 0
  #aborted: Error | undefined
  #resolve: ((r: UpstreamResponse) => void) | undefined
  #reject: ((err: Error) => void) | undefined
  readonly #onDrain = (): void => this.#unpause()

  /** @internal */
  start(dispatcher: Dispatcher, req: ForwardRequest): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
      dispatcher.dispatch(
        {
          method: req.method as Dispatcher.HttpMethod,
          path: req.path,
          headers: req.headers,
          body: req.body,
          headersTimeout: req.headersTimeout,
          bodyTimeout: req.bodyTimeout,
        },
        this as unknown as Dispatcher.DispatchHandler,
      )
    })
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abortFn = abort
    if (this.#aborted) abort(this.#aborted)
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200 || this.#mode !== 'waiting') return true
    this.status = statusCode
    this.rawHeaders = rawHeaders
    this.#resume = resume
    this.#mode = 'held'
    this.#paused = true
    this.#resolve?.(this)
    return false
  }

  onData(chunk: Buffer): boolean {
    if (this.#mode === 'committed') {
      const res = this.#res as ServerResponse
      if (!res.write(chunk)) {
        this.#paused = true
        res.once('drain', this.#onDrain)
        return false
      }
    } else if (this.#mode === 'discarding') {
      this.#drained += chunk.length
      if (this.#drained > DISCARD_DRAIN_LIMIT) this.#abort(new Error('discarded response body too large'))
    }
    return true
  }

  onComplete(): void {
    if (this.#mode === 'committed') this.#res?.end()
    this.#mode = 'done'
  }

  onError(err: Error): void {
    const mode = this.#mode
    this.#mode = 'done'
    if (mode === 'waiting') this.#reject?.(err)
    else if (mode === 'committed') {
      if (!this.#aborted) this.onBodyError?.(err)
      this.#res?.destroy(err)
    }
  }

  /** Sends status, `headers` (flat [name, value, ...]) and the streamed body to the client. */
  commit(res: ServerResponse, headers: string[]): void {
    if (this.#mode !== 'held') return
    this.#mode = 'committed'
    this.#res = res
    res.writeHead(this.status, headers)
    this.#unpause()
  }

  /** Drops the held response (a judged-bad or superseded attempt). */
  discard(): void {
    if (this.#mode !== 'held') return
    if (contentLength(this.rawHeaders) > DISCARD_DRAIN_LIMIT) {
      this.#abort(new Error('discarded response'))
      return
    }
    this.#mode = 'discarding'
    this.#unpause()
  }

  /** Cuts the exchange at any stage (client went away). */
  abort(err: Error): void {
    this.#abort(err)
  }

  #unpause(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#resume?.()
  }

  #abort(err: Error): void {
    if (this.#mode === 'done' || this.#aborted) return
    this.#aborted = err
    this.#abortFn?.(err)
  }
}

function contentLength(raw: Buffer[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as Buffer
    if (name.length === 14 && name.toString('latin1').toLowerCase() === 'content-length') return Number((raw[i + 1] as Buffer).toString('latin1'))
  }
  return NaN
}

/** Dispatches `req` to `dispatcher` (a peer's pool); see the module invariants. */
export function forward(dispatcher: Dispatcher, req: ForwardRequest, exchange = new UpstreamResponse()): Promise<UpstreamResponse> {
  return exchange.start(dispatcher, req)
}
