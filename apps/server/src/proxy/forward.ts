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
import type { ResponseHeaders } from './headers.js'

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

export class UpstreamResponse implements Dispatcher.DispatchHandler {
  status = 0
  headers: ResponseHeaders = {}
  /** called when a committed body fails mid-stream (not on a client abort) */
  onBodyError: ((err: Error) => void) | undefined
  #mode: Mode = 'waiting'
  #controller: Dispatcher.DispatchController | undefined
  #res: ServerResponse | undefined
  #ended = false
  #drained = 0
  #pendingAbort: Error | undefined
  #resolve: ((r: UpstreamResponse) => void) | undefined
  #reject: ((err: Error) => void) | undefined
  readonly #onDrain = (): void => this.#controller?.resume()

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
        this,
      )
    })
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#pendingAbort) controller.abort(this.#pendingAbort)
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    if (statusCode < 200 || this.#mode !== 'waiting') return
    this.#controller = controller
    this.status = statusCode
    this.headers = headers
    this.#mode = 'held'
    controller.pause()
    this.#resolve?.(this)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#mode === 'committed') {
      const res = this.#res as ServerResponse
      if (!res.write(chunk)) {
        controller.pause()
        res.once('drain', this.#onDrain)
      }
    } else if (this.#mode === 'discarding') {
      this.#drained += chunk.length
      if (this.#drained > DISCARD_DRAIN_LIMIT) this.#abort(new Error('discarded response body too large'))
    }
  }

  onResponseEnd(): void {
    this.#ended = true
    if (this.#mode === 'committed') this.#res?.end()
    this.#mode = 'done'
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const mode = this.#mode
    this.#mode = 'done'
    if (mode === 'waiting') this.#reject?.(err)
    else if (mode === 'committed' && !this.#ended) {
      if (!this.#pendingAbort) this.onBodyError?.(err)
      this.#res?.destroy(err)
    }
  }

  /** Sends status, `headers` and the streamed body to the client. */
  commit(res: ServerResponse, headers: ResponseHeaders): void {
    if (this.#mode !== 'held') return
    this.#mode = 'committed'
    this.#res = res
    res.writeHead(this.status, headers as Record<string, string | string[]>)
    this.#controller?.resume()
  }

  /** Drops the held response (a judged-bad or superseded attempt). */
  discard(): void {
    if (this.#mode !== 'held') return
    const cl = Number(this.headers['content-length'] ?? NaN)
    if (cl > DISCARD_DRAIN_LIMIT) {
      this.#abort(new Error('discarded response'))
      return
    }
    this.#mode = 'discarding'
    this.#controller?.resume()
  }

  /** Cuts the exchange at any stage (client went away). */
  abort(err: Error): void {
    this.#abort(err)
  }

  #abort(err: Error): void {
    if (this.#mode === 'done') return
    this.#pendingAbort = err
    if (this.#controller && !this.#controller.aborted) this.#controller.abort(err)
  }
}

/** Dispatches `req` to `dispatcher` (a peer's pool); see the module invariants. */
export function forward(dispatcher: Dispatcher, req: ForwardRequest, exchange = new UpstreamResponse()): Promise<UpstreamResponse> {
  return exchange.start(dispatcher, req)
}
