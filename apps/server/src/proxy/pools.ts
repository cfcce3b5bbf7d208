/**
 * One keep-alive undici Pool per peer, cached for the life of the proxy.
 *
 * Invariants:
 * - A pool is keyed by host, port and connect timeout (the only timeout undici fixes per
 *   pool); read/send timeouts are per request, so a timeout change in a dynamic upstream
 *   takes effect at once without new connections.
 * - Idle connections are closed after 4 s, below Node's default 5 s server keep-alive, so
 *   the proxy, not the peer, closes an idle socket and a request rarely meets a socket the
 *   peer is closing.
 * - Pools of peers no longer used are closed after `idleMs` without a request.
 * - A TLS peer (https upstream) has its own pool per TLS options object (upstream-tls.ts
 *   builds one per upstream `tls` section and host, so identity is a sound key): keep-alive
 *   works as for http, and a changed `tls` section never reuses a connection made under the
 *   old one.
 * - `pipelining` above 1 (server.upstream_pipelining) lets one connection carry up to that
 *   many requests at once (the pool still opens a new connection whenever every open one is
 *   full or still connecting); bodiless requests are sent non-blocking (call.ts) so they
 *   really are pipelined, and undici itself keeps a request with a body and non-idempotent
 *   ones off a busy connection.
 */
import type { ConnectionOptions } from 'node:tls'
import { Pool } from 'undici'

const KEEP_ALIVE_MS = 4_000
const IDLE_POOL_MS = 60_000

interface Entry {
  readonly host: string
  readonly port: number
  readonly connectMs: number
  readonly tls: ConnectionOptions | undefined
  readonly pool: Pool
  lastUsed: number
}

export class PoolCache {
  readonly #pools = new Map<string, Entry>()
  readonly #sweeper: NodeJS.Timeout
  readonly #idleMs: number
  readonly #pipelining: number
  /** the entry of the previous get(): most requests go to the same few peers, so no key is built */
  #last: Entry | undefined
  readonly #tlsIds = new WeakMap<ConnectionOptions, number>()
  #nextTlsId = 1

  /** `pipelining`: requests in flight per connection (server.upstream_pipelining) */
  constructor(idleMs = IDLE_POOL_MS, pipelining = 1) {
    this.#idleMs = idleMs
    this.#pipelining = pipelining
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(1_000, idleMs / 2))
    this.#sweeper.unref()
  }

  get(host: string, port: number, connectMs: number, tls?: ConnectionOptions): Pool {
    const last = this.#last
    if (last !== undefined && last.port === port && last.host === host && last.connectMs === connectMs && last.tls === tls) {
      last.lastUsed = Date.now()
      return last.pool
    }
    const key = tls === undefined ? `${host}:${port}:${connectMs}` : `${host}:${port}:${connectMs}:tls${this.#tlsId(tls)}`
    const hit = this.#pools.get(key)
    if (hit) {
      hit.lastUsed = Date.now()
      this.#last = hit
      return hit.pool
    }
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
    const pool = new Pool(`${tls ? 'https' : 'http'}://${h}:${port}`, {
      connect: tls ? { ...tls, timeout: connectMs } : { timeout: connectMs },
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      pipelining: this.#pipelining,
    })
    const entry = { host, port, connectMs, tls, pool, lastUsed: Date.now() }
    this.#pools.set(key, entry)
    this.#last = entry
    return pool
  }

  #tlsId(tls: ConnectionOptions): number {
    let id = this.#tlsIds.get(tls)
    if (id === undefined) {
      id = this.#nextTlsId++
      this.#tlsIds.set(tls, id)
    }
    return id
  }

  /** requests in flight per connection (server.upstream_pipelining) */
  get pipelining(): number {
    return this.#pipelining
  }

  get size(): number {
    return this.#pools.size
  }

  #sweep(): void {
    const limit = Date.now() - this.#idleMs
    for (const [key, e] of this.#pools) {
      if (e.lastUsed < limit) {
        this.#pools.delete(key)
        if (this.#last === e) this.#last = undefined
        void e.pool.close().catch(() => {})
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    const all = [...this.#pools.values()]
    this.#pools.clear()
    this.#last = undefined
    await Promise.all(all.map((e) => e.pool.destroy().catch(() => {})))
  }
}
