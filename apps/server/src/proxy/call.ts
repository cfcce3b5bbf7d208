/**
 * One client request through readyOk: the retry loop is checkups', this is its callback and
 * the decision of what the client finally gets.
 *
 * Invariants:
 * - At most one upstream response is held at a time; a new attempt first discards the
 *   previous one, which readyOk judged failed (it only calls again after a failure).
 * - The callback returns a promise of the held response (it has `status`, so
 *   `http_opts.statuses` applies) or rejects with the attempt's error, so try / try_timeout /
 *   passive accounting see every attempt exactly as for any callback. The promise is the
 *   exchange's own: its bookkeeping runs synchronously in undici's callbacks (held/failed),
 *   with no async wrapper in between.
 * - When a retry would be unsafe (see retry/safe.ts) or the client is gone, the callback
 *   returns a sentinel without touching the peer, which ends readyOk; the peer it was handed
 *   is credited a success that never happened (client gone: reported `client_abort`, which
 *   counts neither way), which is harmless: a success never clears a failure count.
 * - Timeouts come with the attempt's context (the upstream's, ms); a response body that
 *   breaks off after its head was accepted is reported on that attempt's context
 *   (`body_error`), through the same accounting as any failed attempt.
 * - Final answer: the accepted response; else the last held (judged-bad) response as is, as
 *   nginx relays the last peer's answer when it stops trying; else 502/503/504 by cause.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AttemptContext } from '@checkups/core'
import { hasBody, RequestBody } from './body.js'
import { codeOf, httpErrorOf, ProxyError } from './errors.js'
import { UpstreamResponse, type ExchangeOwner } from './forward.js'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js'
import type { PoolCache } from './pools.js'
import { sendError } from './respond.js'
import { canRetry, maybeSent } from './retry/safe.js'
import { upstreamPath, type Route } from './route.js'
import type { ProxyCheckups, ProxyLogger } from './types.js'

export interface CallDeps {
  readonly checkups: ProxyCheckups
  readonly pools: PoolCache
  readonly workerId: string
  readonly proto: string
  readonly logger: ProxyLogger | undefined
}

const STOP = Symbol('stop')
type Outcome = UpstreamResponse | typeof STOP

export class ProxyCall implements ExchangeOwner {
  readonly #deps: CallDeps
  readonly #route: Route
  readonly #req: IncomingMessage
  readonly #res: ServerResponse
  #attempts = 0
  #held: UpstreamResponse | undefined
  #current: UpstreamResponse | undefined
  #lastError: unknown
  #body: RequestBody | undefined
  #sent = false
  #unsafe = false
  #clientGone = false
  #headers: string[] | undefined
  /** the context of the attempt whose response is held (late failures are reported on it) */
  #peerCtx: AttemptContext | undefined
  /** the context of the attempt in flight */
  #tryCtx: AttemptContext | undefined

  constructor(deps: CallDeps, route: Route, req: IncomingMessage, res: ServerResponse) {
    this.#deps = deps
    this.#route = route
    this.#req = req
    this.#res = res
    res.on('close', this.#onClientClose)
  }

  readonly #onClientClose = (): void => {
    if (this.#res.writableFinished) return
    this.#clientGone = true
    this.#current?.abort(new ProxyError('PRX_ERR_CLIENT_ABORTED', 'client closed the connection'))
  }

  async run(): Promise<void> {
    try {
      const out = await this.#deps.checkups.readyOk<Outcome>(this.#route.upstream, this.#attempt, { request: this.#req })
      this.#finish(out === STOP ? undefined : out, out === STOP && this.#unsafe ? new ProxyError('PRX_ERR_UNSAFE_RETRY', 'unsafe retry') : undefined)
    } catch (err) {
      this.#finish(undefined, err)
    }
  }

  /**
   * readyOk's callback. Not async: it returns the exchange's own promise (or STOP at once), and
   * the exchange reports to held()/failed() synchronously, so no promise layer sits between
   * undici and readyOk.
   */
  readonly #attempt = (host: string, port: number, ctx: AttemptContext): Outcome | Promise<Outcome> => {
    if (this.#clientGone) {
      ctx.report('client_abort')
      return STOP
    }
    if (this.#attempts > 0 && !this.#retryable()) {
      this.#unsafe = true
      return STOP
    }
    this.#held?.discard()
    this.#held = undefined
    this.#lastError = undefined
    this.#attempts++
    const { connect, send, read } = ctx.timeouts
    const pool = this.#deps.pools.get(host, port, Math.round(connect))
    const req = this.#req
    this.#body = hasBody(req) ? new RequestBody(req) : undefined
    this.#tryCtx = ctx
    const exchange = new UpstreamResponse(this)
    this.#current = exchange
    return exchange.start<Outcome>(pool, {
      method: req.method ?? 'GET',
      path: upstreamPath(this.#route, req.url ?? '/'),
      headers: (this.#headers ??= upstreamRequestHeaders(req, this.#deps.proto)),
      body: this.#body ?? null,
      // undici's headers timer also runs while the body is written: uploads get the larger
      // of send/read, bodiless requests exactly nginx's read timeout for the response header
      headersTimeout: Math.round(this.#body ? Math.max(send, read) : read),
      bodyTimeout: Math.round(read),
    })
  }

  /** @internal ExchangeOwner: the attempt's response head arrived */
  held(resp: UpstreamResponse): void {
    this.#sent = true
    this.#held = resp
    this.#peerCtx = this.#tryCtx
  }

  /** @internal ExchangeOwner: the attempt failed before a response head */
  failed(_resp: UpstreamResponse, err: Error): unknown {
    // the client leaving (its socket, or its upload) is not the peer's failure
    if (this.#clientGone || codeOf(err) === 'PRX_ERR_CLIENT_ABORTED') {
      this.#clientGone = true
      this.#tryCtx?.report('client_abort')
      return STOP
    }
    this.#lastError = err
    this.#sent = maybeSent({ error: err, responded: false })
    return undefined
  }

  /** @internal ExchangeOwner: an accepted peer that fails mid-body (reset, body read timeout) still counts against it */
  bodyFailed(): void {
    this.#peerCtx?.report('body_error')
  }

  #retryable(): boolean {
    return canRetry({ method: this.#req.method ?? 'GET', bodyTouched: this.#body?.touched === true, sent: this.#sent })
  }

  #finish(accepted: UpstreamResponse | undefined, err: unknown): void {
    if (this.#clientGone) {
      this.#held?.abort(new ProxyError('PRX_ERR_CLIENT_ABORTED', 'client closed the connection'))
      return
    }
    const relay = accepted ?? this.#held
    if (relay) {
      this.#commit(relay)
      return
    }
    const httpErr = httpErrorOf(err, this.#lastError)
    this.#deps.logger?.warn(
      { event: 'proxy_error', upstream: this.#route.upstream, status: httpErr.status, code: codeOf(err), attempts: this.#attempts, last: codeOf(this.#lastError) },
      `proxy: ${httpErr.message}`,
    )
    sendError(this.#req, this.#res, httpErr, this.#deps.workerId)
  }

  #commit(resp: UpstreamResponse): void {
    resp.commit(this.#res, clientResponseHeaders(resp.rawHeaders, this.#deps.workerId))
  }
}
