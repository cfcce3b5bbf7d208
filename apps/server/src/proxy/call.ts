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
 * - The route's policy (nginx's proxy_next_upstream): a failure is retried only when its kind
 *   (`error`, `timeout`) is listed; a status listed as `http_NNN` makes a response a failure
 *   (counted against its peer, as nginx does) so the next peer is tried; `non_idempotent`
 *   allows replaying a request that reached a peer whatever its method. Route timeouts replace
 *   the upstream's, route `try` / `try_timeout` bound the call.
 * - A failure caused by the client (its upload broke off or exceeded max_body_size, undici
 *   refused its headers, it went away) ends the call with STOP: never a failure of the peer,
 *   and the client gets the matching 4xx (or nothing, if it is gone).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AttemptContext } from '@checkups/core'
import { hasBody, RequestBody } from './body.js'
import { clientFaultOf, codeOf, httpErrorOf, isTimeout, ProxyError } from './errors.js'
import { UpstreamResponse, type ExchangeOwner } from './forward.js'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js'
import type { PoolCache } from './pools.js'
import type { PeerTlsResolver } from './upstream-tls.js'
import { sendError } from './respond.js'
import { canRetry, maybeSent } from './retry/safe.js'
import { rewriteRedirects } from './redirect.js'
import { hostHeaderOf } from './request-check.js'
import type { Route } from './route.js'
import type { ProxyCheckups, ProxyLogger } from './types.js'

export interface CallDeps {
  readonly checkups: ProxyCheckups
  readonly pools: PoolCache
  /** TLS options for an https upstream's peer, undefined for http */
  readonly tlsOf: PeerTlsResolver
  /** the value of `x-checkups-worker` on proxied responses (this worker's id), undefined to send none */
  readonly workerHeader: string | undefined
  /** this listener's scheme, `http` or `https` */
  readonly proto: string
  readonly logger: ProxyLogger | undefined
}

const STOP = Symbol('stop')
/** resolved for a response whose status the route retries on: a failure for readyOk */
const RETRY_STATUS = false
type FailKind = 'error' | 'timeout' | 'status'
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
  /** set when the client, not a peer, broke the exchange (answered with its 4xx) */
  #clientFault: unknown
  #failKind: FailKind | undefined
  readonly #path: string
  #headers: string[] | undefined
  /** the context of the attempt whose response is held (late failures are reported on it) */
  #peerCtx: AttemptContext | undefined
  /** the context of the attempt in flight */
  #tryCtx: AttemptContext | undefined

  /** attempts made so far (access log) */
  get attempts(): number {
    return this.#attempts
  }

  /** `host:port` of the peer whose response the client got, or null (access log) */
  get peer(): string | null {
    const c = this.#peerCtx
    return c === undefined ? null : `${c.host}:${c.port}`
  }

  /** that peer's host, or null (per-peer byte counts) */
  get peerHost(): string | null {
    return this.#peerCtx?.host ?? null
  }

  get peerPort(): number {
    return this.#peerCtx?.port ?? 0
  }

  /** `path`: the request target to send (normalised, prefix stripped, query kept) */
  constructor(deps: CallDeps, route: Route, req: IncomingMessage, res: ServerResponse, path: string) {
    this.#deps = deps
    this.#route = route
    this.#path = path
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
      const p = this.#route.policy
      const out = await this.#deps.checkups.readyOk<Outcome | false>(this.#route.upstream, this.#attempt, { ...p.tryOptions, request: this.#req })
      if (out === false) throw new Error('unreachable: a failing value is never accepted')
      this.#finish(out === STOP ? undefined : out, out === STOP ? this.#stopReason() : undefined)
    } catch (err) {
      this.#finish(undefined, err)
    }
  }

  /**
   * readyOk's callback. Not async: it returns the exchange's own promise (or STOP at once), and
   * the exchange reports to held()/failed() synchronously, so no promise layer sits between
   * undici and readyOk.
   */
  readonly #attempt = (host: string, port: number, ctx: AttemptContext): Outcome | Promise<Outcome | false> => {
    if (this.#clientGone || this.#clientFault !== undefined) {
      ctx.report('client_abort')
      return STOP
    }
    if (this.#attempts > 0) {
      const why = this.#whyNoRetry()
      if (why !== undefined) {
        this.#unsafe = why === 'unsafe'
        return STOP
      }
    }
    this.#held?.discard()
    this.#held = undefined
    this.#lastError = undefined
    this.#attempts++
    // the upstream's timeouts come with the attempt, the route's own are in its policy (both ms)
    const own = this.#route.policy.timeoutsMs
    const connect = own.connect ?? ctx.timeouts.connect
    const send = own.send ?? ctx.timeouts.send
    const read = own.read ?? ctx.timeouts.read
    const tls = this.#deps.tlsOf(this.#route.upstream, host)
    const pool = this.#deps.pools.get(host, port, Math.round(connect), tls)
    const req = this.#req
    this.#body = hasBody(req) ? new RequestBody(req, this.#route.policy.maxBodySize) : undefined
    this.#tryCtx = ctx
    const exchange = new UpstreamResponse(this)
    this.#current = exchange
    return exchange.start<Outcome | false>(pool, {
      method: req.method ?? 'GET',
      path: this.#path,
      headers: (this.#headers ??= upstreamRequestHeaders(req, this.#deps.proto, this.#route.policy.request)),
      body: this.#body ?? null,
      // undici's headers timer also runs while the body is written: uploads get the larger
      // of send/read, bodiless requests exactly nginx's read timeout for the response header
      headersTimeout: Math.round(this.#body ? Math.max(send, read) : read),
      bodyTimeout: Math.round(read),
      servername: tls === undefined ? undefined : (tls.servername ?? host),
      // pipelining: a bodiless request may go out before the previous response's head
      // (undici still keeps non-idempotent requests out of a busy connection)
      blocking: this.#body !== undefined || this.#deps.pools.pipelining === 1,
    })
  }

  /** @internal ExchangeOwner: the attempt's response head arrived */
  held(resp: UpstreamResponse): unknown {
    this.#sent = true
    this.#held = resp
    this.#peerCtx = this.#tryCtx
    if (this.#route.policy.next.statuses.has(resp.status)) {
      this.#failKind = 'status'
      return RETRY_STATUS
    }
    this.#failKind = 'status' // judged by http_opts.statuses, if at all: a response, retryable
    return undefined
  }

  /** @internal ExchangeOwner: the attempt failed before a response head */
  failed(_resp: UpstreamResponse, err: Error): unknown {
    // the client leaving (its socket, or its upload) is not the peer's failure
    if (this.#clientGone || codeOf(err) === 'PRX_ERR_CLIENT_ABORTED') {
      this.#clientGone = true
      this.#tryCtx?.report('client_abort')
      return STOP
    }
    if (clientFaultOf(err) !== undefined) {
      this.#clientFault = err
      this.#tryCtx?.report('client_abort')
      return STOP
    }
    this.#failKind = isTimeout(err) ? 'timeout' : 'error'
    this.#lastError = err
    this.#sent = maybeSent({ error: err, responded: false })
    return undefined
  }

  /** @internal ExchangeOwner: an accepted peer that fails mid-body (reset, body read timeout) still counts against it */
  bodyFailed(): void {
    this.#peerCtx?.report('body_error')
  }

  /** Why the next attempt must not happen: the route's policy, or replay safety. */
  #whyNoRetry(): 'policy' | 'unsafe' | undefined {
    const next = this.#route.policy.next
    if (this.#failKind === 'error' && !next.error) return 'policy'
    if (this.#failKind === 'timeout' && !next.timeout) return 'policy'
    const method = next.nonIdempotent ? 'GET' : (this.#req.method ?? 'GET')
    return canRetry({ method, bodyTouched: this.#body?.touched === true, sent: this.#sent }) ? undefined : 'unsafe'
  }

  #stopReason(): unknown {
    if (this.#clientFault !== undefined) return this.#clientFault
    return this.#unsafe ? new ProxyError('PRX_ERR_UNSAFE_RETRY', 'unsafe retry') : undefined
  }

  #finish(accepted: UpstreamResponse | undefined, err: unknown): void {
    if (this.#clientGone) {
      this.#held?.abort(new ProxyError('PRX_ERR_CLIENT_ABORTED', 'client closed the connection'))
      return
    }
    const fault = this.#clientFault === undefined ? undefined : clientFaultOf(this.#clientFault)
    if (fault !== undefined) {
      this.#held?.discard()
      this.#deps.logger?.debug?.({ event: 'proxy_client_error', upstream: this.#route.upstream, status: fault.status, code: codeOf(this.#clientFault) }, `proxy: ${fault.message}`)
      sendError(this.#req, this.#res, fault, this.#deps.workerHeader)
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
    sendError(this.#req, this.#res, httpErr, this.#deps.workerHeader)
  }

  #commit(resp: UpstreamResponse): void {
    const { policy } = this.#route
    const headers = clientResponseHeaders(resp.rawHeaders, this.#deps.workerHeader, policy.response)
    if (policy.redirect) rewriteRedirects(headers, { host: this.#peerCtx?.host ?? '', port: this.#peerCtx?.port ?? 0 }, this.#deps.proto, hostHeaderOf(this.#req), this.#route)
    resp.commit(this.#res, headers)
  }
}
