/**
 * One attempt: send the request to one peer and hold its response until it is judged.
 *
 * Invariants:
 * - The attempt resolves when the peer's response headers arrive (1xx skipped) and rejects
 *   on any failure before that (connect, send, read timeout, reset). Nothing reaches the
 *   client before `commit`.
 * - While held (judged by readyOk), the body keeps being read into memory up to HOLD_LIMIT
 *   bytes, then the peer is paused: bounded memory, and a small response is usually complete
 *   (its connection back in the pool) before it is judged. Pausing the parser at the headers
 *   instead costs ~20 % CPU per request (undici unshifts and re-reads the socket data).
 * - The held response then ends in exactly one of:
 *   `commit(res, headers)` — status + headers written, the held bytes and the rest of the
 *   body streamed to the client with backpressure (the peer is paused while the client
 *   socket is full);
 *   `discard()` — the body is read and dropped so the connection can be reused, or the
 *   exchange is aborted when the body is large;
 *   `abort(err)` — the exchange is cut (client went away).
 * - A failure after the headers cannot change the status any more: the client response is
 *   destroyed so the client sees a truncated message, never a silently short one.
 */
import type { ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'

/** Above this many bytes a discarded body is not drained but its connection dropped. */
const DISCARD_DRAIN_LIMIT = 256 * 1024
/** Body bytes read ahead while a response is judged (nginx's proxy_buffers default: 8 × 8k). */
const HOLD_LIMIT = 64 * 1024

export interface ForwardRequest {
  readonly method: string
  readonly path: string
  readonly headers: string[]
  readonly body: Readable | null
  /** ms waiting for response headers; undici also runs it while writing the body (refreshed on backpressure) */
  readonly headersTimeout: number
  /** ms idle between response body chunks */
  readonly bodyTimeout: number
  /**
   * TLS peers: the name to verify (and send as SNI). Always given for https, or undici would
   * take it from the client's Host header (a client-chosen name, and a new connection each
   * time it changes).
   */
  readonly servername?: string | undefined
  /**
   * undici `blocking`: false lets the next request be pipelined on this connection before this
   * one's response head arrives (undici's default, true, pipelines only behind responses whose
   * head is in, which for small answers is almost never). Only with server.upstream_pipelining.
   */
  readonly blocking?: boolean
}

/** `broken`: held, and the exchange failed before it was committed or discarded */
type Mode = 'waiting' | 'held' | 'broken' | 'committed' | 'discarding' | 'done'

/**
 * What an exchange reports to the call that started it, synchronously from undici's
 * callbacks (no promise hop between undici and the call's bookkeeping).
 */
export interface ExchangeOwner {
  /**
   * The response head arrived and is held (called just before the attempt resolves with it);
   * returns the value to resolve with instead (a failing value for a status the route retries
   * on), or undefined for the exchange itself.
   */
  held(resp: UpstreamResponse): unknown
  /**
   * Failed before the response head: returns the value the attempt resolves with instead of
   * rejecting with `err` (the call's stop sentinel), or undefined to reject.
   */
  failed(resp: UpstreamResponse, err: Error): unknown
  /** the body of a response the client gets failed mid-stream (not on a client abort) */
  bodyFailed(resp: UpstreamResponse, err: Error): void
}

/**
 * The exchange with one peer, as an undici dispatch handler. It implements undici's
 * callback-style handler (onConnect/onHeaders/onData/onComplete/onError), the one undici
 * drives natively: raw header buffers, no per-response header object, no wrapper.
 */
export class UpstreamResponse {
  status = 0
  /** the peer's raw response headers, [name, value, ...] */
  rawHeaders: Buffer[] = []
  readonly owner: ExchangeOwner | undefined
  #mode: Mode = 'waiting'
  #abortFn: ((err: Error) => void) | undefined
  #resume: (() => void) | undefined
  #paused = false
  #res: ServerResponse | undefined
  #drained = 0
  #aborted: Error | undefined
  #resolve: ((r: unknown) => void) | undefined
  #reject: ((err: Error) => void) | undefined
  #onDrain: (() => void) | undefined
  /** body read while held: the first chunk, the others, their size; complete: all of it */
  #first: Buffer | undefined
  #more: Buffer[] | undefined
  #heldBytes = 0
  #complete = false
  #error: Error | undefined

  constructor(owner?: ExchangeOwner) {
    this.owner = owner
  }

  /**
   * Dispatches `req` and returns the attempt's outcome: this exchange once its response head
   * is held, or what `owner.failed` returns for an early failure (else a rejection).
   * @internal
   */
  start<T = UpstreamResponse>(dispatcher: Dispatcher, req: ForwardRequest): Promise<T> {
    const p = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve as (r: unknown) => void
      this.#reject = reject
    })
    try {
      // the request is undici's dispatch options as is (an undefined servername is ignored)
      dispatcher.dispatch(req as Dispatcher.DispatchOptions, this as unknown as Dispatcher.DispatchHandler)
    } catch (err) {
      if (this.#mode === 'waiting') this.onError(err as Error)
    }
    return p
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
    const instead = this.owner?.held(this)
    this.#resolve?.(instead === undefined ? this : instead)
    return true
  }

  onData(chunk: Buffer): boolean {
    switch (this.#mode) {
      case 'committed': {
        const res = this.#res as ServerResponse
        if (!res.write(chunk)) return this.#waitDrain(res)
        break
      }
      case 'held':
        if (this.#first === undefined) this.#first = chunk
        else (this.#more ??= []).push(chunk)
        this.#heldBytes += chunk.length
        if (this.#heldBytes >= HOLD_LIMIT) {
          this.#paused = true
          return false
        }
        break
      case 'discarding':
        this.#drained += chunk.length
        if (this.#drained > DISCARD_DRAIN_LIMIT) this.#abort(new Error('discarded response body too large'))
        break
    }
    return true
  }

  onComplete(): void {
    if (this.#mode === 'held') {
      this.#complete = true
      return
    }
    if (this.#mode === 'committed') this.#res?.end()
    this.#mode = 'done'
  }

  onError(err: Error): void {
    const mode = this.#mode
    this.#mode = 'done'
    if (mode === 'waiting') {
      const instead = this.owner?.failed(this, err)
      if (instead === undefined) this.#reject?.(err)
      else this.#resolve?.(instead)
    } else if (mode === 'held') {
      // answered when committed (as a failure right after it), nothing to do when discarded
      this.#mode = 'broken'
      this.#error = err
    } else if (mode === 'committed') {
      if (!this.#aborted) this.owner?.bodyFailed(this, err)
      this.#res?.destroy(err)
    }
  }

  /** Sends status, `headers` (flat [name, value, ...]) and the streamed body to the client. */
  commit(res: ServerResponse, headers: string[]): void {
    if (this.#mode === 'broken') {
      this.#mode = 'done'
      const err = this.#error as Error
      if (!this.#aborted) this.owner?.bodyFailed(this, err)
      res.destroy(err)
      return
    }
    if (this.#mode !== 'held') return
    this.#res = res
    res.writeHead(this.status, headers)
    const first = this.#first
    const more = this.#more
    this.#first = this.#more = undefined
    if (this.#complete) {
      this.#mode = 'done'
      if (more === undefined) {
        res.end(first)
        return
      }
      res.write(first)
      for (let i = 0; i < more.length - 1; i++) res.write(more[i])
      res.end(more[more.length - 1])
      return
    }
    this.#mode = 'committed'
    let ok = true
    if (first !== undefined) ok = res.write(first)
    if (more !== undefined) for (const c of more) ok = res.write(c)
    if (ok) this.#unpause()
    else if (this.#paused) res.once('drain', (this.#onDrain ??= () => this.#unpause()))
    // else: undici is still reading; its next chunk meets the full socket and pauses
  }

  /** Drops the held response (a judged-bad or superseded attempt). */
  discard(): void {
    const mode = this.#mode
    this.#first = this.#more = undefined
    if (mode === 'broken' || (mode === 'held' && this.#complete)) {
      this.#mode = 'done'
      return
    }
    if (mode !== 'held') return
    if (contentLength(this.rawHeaders) > DISCARD_DRAIN_LIMIT) {
      this.#abort(new Error('discarded response'))
      return
    }
    this.#mode = 'discarding'
    this.#drained = this.#heldBytes
    this.#unpause()
  }

  /** Cuts the exchange at any stage (client went away). */
  abort(err: Error): void {
    this.#abort(err)
  }

  #waitDrain(res: ServerResponse): false {
    this.#paused = true
    res.once('drain', (this.#onDrain ??= () => this.#unpause()))
    return false
  }

  #unpause(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#resume?.()
  }

  #abort(err: Error): void {
    if (this.#mode === 'done' || this.#mode === 'broken' || this.#complete || this.#aborted) return
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
