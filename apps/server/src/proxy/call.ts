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
 *   is credited a success that never happened, which is harmless: a success never clears
 *   a failure count.
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
import { hasBody, RequestBody } from './body.js'
import { clientFaultOf, codeOf, httpErrorOf, isTimeout, ProxyError } from './errors.js'
import { UpstreamResponse, type ExchangeOwner } from './forward.js'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js'
import type { PoolCache } from './pools.js'
import type { PeerSettings, PeerTlsResolver } from './upstream-tls.js'
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
  /** the upstream's timeouts and the peer's TLS options, one view lookup */
  readonly settingsOf: (skey: string, host: string) => PeerSettings
  readonly workerId: string
  /** send `x-checkups-worker` on proxied responses */
  readonly workerHeader: boolean
  /** this listener's scheme, `http` or `https` */
  readonly proto: string
  readonly logger: ProxyLogger | undefined
}

const STOP = Symbol('stop')
/** resolved for a response whose status the route retries on: a failure for readyOk */
const RETRY_STATUS = false
type FailKind = 'error' | 'timeout' | 'status'
type Outcome = UpstreamResponse | typeof STOP
/** used when getUpsTimeout knows no value (readyOk will reject the unknown skey anyway) */
const DEFAULT_TIMEOUTS = [60, 60, 60] as const

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
  #peerHost = ''
  #peerPort = 0
  /** the host/port of the attempt in flight (reported with its outcome) */
  #tryHost = ''
  #tryPort = 0

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
      const opts: { request: IncomingMessage; try?: number; try_timeout?: number } = { request: this.#req }
      if (p.try !== undefined) opts.try = p.try
      if (p.tryTimeout !== undefined) opts.try_timeout = p.tryTimeout
      const out = await this.#deps.checkups.readyOk<Outcome | false>(this.#route.upstream, this.#attempt, opts)
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
  readonly #attempt = (host: string, port: number): Outcome | Promise<Outcome | false> => {
    if (this.#clientGone || this.#clientFault !== undefined) return STOP
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
    const settings = this.#deps.settingsOf(this.#route.upstream, host)
    const ups = settings.timeouts ?? DEFAULT_TIMEOUTS
    const own = this.#route.policy.timeouts
    const send = own.send ?? ups[1]
    const read = own.read ?? ups[2]
    const tls = settings.tls
    const pool = this.#deps.pools.get(host, port, Math.round((own.connect ?? ups[0]) * 1000), tls)
    const req = this.#req
    this.#body = hasBody(req) ? new RequestBody(req, this.#route.policy.maxBodySize) : undefined
    this.#tryHost = host
    this.#tryPort = port
    const exchange = new UpstreamResponse(this)
    this.#current = exchange
    return exchange.start<Outcome | false>(pool, {
      method: req.method ?? 'GET',
      path: this.#path,
      headers: (this.#headers ??= upstreamRequestHeaders(req, this.#deps.proto, this.#route.policy.request)),
      body: this.#body ?? null,
      // undici's headers timer also runs while the body is written: uploads get the larger
      // of send/read, bodiless requests exactly nginx's read timeout for the response header
      headersTimeout: Math.round((this.#body ? Math.max(send, read) : read) * 1000),
      bodyTimeout: Math.round(read * 1000),
      servername: tls === undefined ? undefined : (tls.servername ?? host),
    })
  }

  /** @internal ExchangeOwner: the attempt's response head arrived */
  held(resp: UpstreamResponse): unknown {
    this.#sent = true
    this.#held = resp
    this.#peerHost = this.#tryHost
    this.#peerPort = this.#tryPort
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
      return STOP
    }
    if (clientFaultOf(err) !== undefined) {
      this.#clientFault = err
      return STOP
    }
    this.#failKind = isTimeout(err) ? 'timeout' : 'error'
    this.#lastError = err
    this.#sent = maybeSent({ error: err, responded: false })
    return undefined
  }

  /** @internal ExchangeOwner: an accepted peer that fails mid-body (reset, body read timeout) still counts against it */
  bodyFailed(): void {
    const { checkups } = this.#deps
    if (this.#peerHost === '' || !checkups.feedbackStatus) return
    try {
      checkups.feedbackStatus(this.#route.upstream, this.#peerHost, this.#peerPort, true)
    } catch {
      // the upstream may have been removed meanwhile
    }
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
      sendError(this.#req, this.#res, fault, this.#deps.workerHeader ? this.#deps.workerId : undefined)
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
    sendError(this.#req, this.#res, httpErr, this.#deps.workerHeader ? this.#deps.workerId : undefined)
  }

  #commit(resp: UpstreamResponse): void {
    const { policy } = this.#route
    const headers = clientResponseHeaders(resp.rawHeaders, this.#deps.workerHeader ? this.#deps.workerId : undefined, policy.response)
    if (policy.redirect) rewriteRedirects(headers, { host: this.#peerHost, port: this.#peerPort }, this.#deps.proto, hostHeaderOf(this.#req), this.#route)
    resp.commit(this.#res, headers)
  }
}
