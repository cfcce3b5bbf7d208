/**
 * `checkups.dispatcher()`: an undici Dispatcher whose requests to an upstream's name go through
 * readyOk — `fetch('http://api/users', { dispatcher })` picks a peer of upstream `api`.
 *
 * Invariants
 * - The upstream is `options.skey`, else the request origin's hostname when it names an
 *   upstream; any other origin goes to `options.fallback` (an undici Agent by default)
 *   untouched, so the dispatcher can be installed with setGlobalDispatcher.
 * - Each peer has its own keep-alive Pool, created on first use with the upstream's connect
 *   timeout; the read timeout bounds headers and body unless the request sets its own.
 * - undici is loaded on first use (an optional peer dependency of @checkups/core).
 */
import { createRequire } from 'node:module'
import type * as Undici from 'undici'
import type { ResolvedUpstream } from '../config/types.js'
import type { ReadyOkCallback, ReadyOkOptions } from '../try/ready-ok.js'
import { CheckupsError } from '../errors.js'
import { type AttemptResult, type DispatchOpts, Exchange, type ExchangeEnv, type Handler, STOP } from './exchange.js'

/** The part of Checkups the clients use. */
export interface ClientCheckups {
  readyOk<T>(skey: string, cb: ReadyOkCallback<T>, opts?: ReadyOkOptions): Promise<T>
  getUpstream(skey: string): ResolvedUpstream | undefined
  getUpsTimeout(skey: string): [connect: number, send: number, read: number] | undefined
}

export interface DispatcherOptions {
  /** send every request to this upstream, whatever the URL's host */
  skey?: string
  /** where requests to hosts that are not upstreams go (default: a new undici Agent) */
  fallback?: Undici.Dispatcher
  /** options of each peer's Pool (connections, pipelining, keepAliveTimeout, …) */
  pool?: Undici.Pool.Options
  /** readyOk options (hash_key, cluster_key, try, try_timeout) for every request */
  readyOk?: ReadyOkOptions
}

const requireHere = createRequire(import.meta.url)
let undici: typeof Undici | undefined
let wrap: ((h: unknown) => Handler) | undefined

export function loadUndici(): typeof Undici {
  if (undici === undefined) {
    try {
      undici = requireHere('undici') as typeof Undici
      const W = requireHere('undici/lib/handler/wrap-handler.js') as { wrap(h: unknown): Handler }
      wrap = (h) => W.wrap(h)
    } catch (cause) {
      throw new CheckupsError('CKP_ERR_MISSING_PACKAGE', 'checkups.dispatcher() needs the "undici" package: npm install undici', { cause })
    }
  }
  return undici
}

function statusesOf(ups: ResolvedUpstream | undefined): Readonly<Record<string, boolean>> | null {
  return ups?.typ === 'http' ? (ups.http_opts?.statuses ?? null) : null
}

interface Target { skey: string; ups: ResolvedUpstream | undefined }

/** The upstream a request is for (looked up once), or undefined to pass it through. */
export function upstreamOf(c: ClientCheckups, opts: { origin?: unknown }, skey: string | undefined): Target | undefined {
  if (skey !== undefined) return { skey, ups: c.getUpstream(skey) }
  const origin = opts.origin
  let host: string
  try {
    host = (origin instanceof URL ? origin : new URL(String(origin))).hostname
  } catch {
    return undefined
  }
  const ups = c.getUpstream(host)
  return ups !== undefined ? { skey: host, ups } : undefined
}

/** One attempt's dispatch options and the connect timeout (ms) of its peer's pool. */
type Send = (o: DispatchOpts, h: Handler, connectMs: number) => void

/**
 * Runs one request through readyOk; `send` dispatches one attempt to a peer. The timeouts are
 * the attempt context's (the upstream's, as readyOk saw it); a body that fails after its head
 * was relayed is reported on that attempt's context, like any failure.
 */
export function balance(c: ClientCheckups, t: Target, opts: DispatchOpts, handler: Handler, send: Send, readyOkOpts?: ReadyOkOptions): void {
  const env: ExchangeEnv = {
    statuses: statusesOf(t.ups),
    send: (ctx, h) => send({
      headersTimeout: ctx.timeouts.read, bodyTimeout: ctx.timeouts.read, ...opts, origin: `http://${ctx.host}:${ctx.port}`,
    }, h, ctx.timeouts.connect),
  }
  const ex = new Exchange(env, handler, opts)
  c.readyOk<AttemptResult | typeof STOP>(t.skey, (_host, _port, ctx) => ex.attempt(ctx), readyOkOpts)
    .then(() => ex.settle(undefined), (err) => ex.settle(err))
}

export function createDispatcher(c: ClientCheckups, options: DispatcherOptions = {}): Undici.Dispatcher {
  const u = loadUndici()
  const toNew = wrap!
  class CheckupsDispatcher extends u.Dispatcher {
    readonly #pools = new Map<string, Undici.Pool>()
    #fallback: Undici.Dispatcher | undefined = options.fallback
    #closed = false

    #pool(origin: string, connectMs: number): Undici.Pool {
      const key = `${origin} ${connectMs}`
      let p = this.#pools.get(key)
      if (p === undefined) {
        p = new u.Pool(origin, { connect: { timeout: connectMs }, ...options.pool })
        this.#pools.set(key, p)
      }
      return p
    }

    override dispatch(opts: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler): boolean {
      if (this.#closed) throw new CheckupsError('CKP_ERR_CLOSED', 'the checkups dispatcher is closed')
      const t = upstreamOf(c, opts, options.skey)
      if (t === undefined) return (this.#fallback ??= new u.Agent()).dispatch(opts, handler)
      balance(c, t, opts as unknown as DispatchOpts, toNew(handler), (o, h, connectMs) => {
        this.#pool(o.origin as string, connectMs).dispatch(o as unknown as Undici.Dispatcher.DispatchOptions, h as Undici.Dispatcher.DispatchHandler)
      }, options.readyOk)
      return true
    }

    async #end(err: Error | null | undefined): Promise<void> {
      this.#closed = true
      const all = [...this.#pools.values()]
      if (options.fallback === undefined && this.#fallback !== undefined) all.push(this.#fallback as Undici.Pool)
      await Promise.all(all.map((p) => (err === undefined ? p.close() : p.destroy(err))))
    }

    // undici's overloads: a promise, or a callback when one is given
    override close(cb?: unknown): any {
      const p = this.#end(undefined)
      if (typeof cb !== 'function') return p
      p.then(() => cb(), () => cb())
    }

    override destroy(a?: unknown, b?: unknown): any {
      const cb = typeof a === 'function' ? a : b
      const p = this.#end(a instanceof Error ? a : null)
      if (typeof cb !== 'function') return p
      p.then(() => cb(), () => cb())
    }
  }
  return new CheckupsDispatcher()
}

/** The same as an interceptor for `agent.compose(...)`: attempts go down the composed chain. */
export function createInterceptor(c: ClientCheckups, options: Omit<DispatcherOptions, 'fallback' | 'pool'> = {}): Undici.Dispatcher.DispatcherComposeInterceptor {
  loadUndici()
  const toNew = wrap!
  return (dispatch) => (opts, handler) => {
    const t = upstreamOf(c, opts, options.skey)
    if (t === undefined) return dispatch(opts, handler)
    balance(c, t, opts as unknown as DispatchOpts, toNew(handler), (o, h) => {
      dispatch(o as unknown as Undici.Dispatcher.DispatchOptions, h as Undici.Dispatcher.DispatchHandler)
    }, options.readyOk)
    return true
  }
}

export { STOP }
