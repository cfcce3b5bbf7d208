/**
 * `checkups.mysql(skey, options)`: a mysql2 promise pool over an upstream's peers. Each query
 * goes through readyOk (levels in order, heartbeat and passive state, passive accounting).
 *
 * Invariants
 * - One mysql2 pool per peer, created on first use with the upstream's connect timeout and its
 *   `user` / `pass` / `name` / `charset` (the heartbeat's), which `options.pool` overrides.
 * - Taking a connection is the connect phase: when it fails nothing was sent and the query
 *   moves on to the next peer.
 * - A query whose connection dies while it runs is never repeated (it may have run): it fails
 *   with CKP_ERR_PEER_LOST; that peer is counted failed, so the next query goes elsewhere.
 * - An SQL error (a non-fatal mysql2 error) is the server answering: a success for the peer,
 *   the error for the caller.
 * - mysql2 is loaded on first use (an optional peer dependency).
 */
import { createRequire } from 'node:module'
import type * as Mysql from 'mysql2/promise'
import { CheckupsError } from '../errors.js'
import type { ClientCheckups } from './dispatcher.js'
import { STOP } from './exchange.js'
import { UpstreamClient } from './base.js'
import type { ReadyOkOptions } from '../try/ready-ok.js'

let mysql: typeof Mysql | undefined
function load(): typeof Mysql {
  if (mysql === undefined) {
    try {
      mysql = createRequire(import.meta.url)('mysql2/promise') as typeof Mysql
    } catch (cause) {
      throw new CheckupsError('CKP_ERR_MISSING_PACKAGE', 'checkups.mysql() needs the "mysql2" package: npm install mysql2', { cause })
    }
  }
  return mysql
}

export interface MysqlClientOptions {
  /** mysql2 pool options for every peer (user, password, database, connectionLimit, …) */
  pool?: Omit<Mysql.PoolOptions, 'host' | 'port'>
  readyOk?: ReadyOkOptions
}

type Outcome<T> = { value: T } | { sqlError: Error }

export class CheckupsMysql extends UpstreamClient<MysqlClientOptions> {
  readonly #pools = new Map<string, Mysql.Pool>()

  constructor(c: ClientCheckups, skey: string, opts: MysqlClientOptions = {}) {
    super(c, skey, opts)
    load()
  }

  query<T = unknown>(sql: string, values?: unknown): Promise<T> {
    return this.#run((conn) => conn.query(sql, values as never) as Promise<unknown> as Promise<T>)
  }

  execute<T = unknown>(sql: string, values?: unknown): Promise<T> {
    return this.#run((conn) => conn.execute(sql, values as never) as Promise<unknown> as Promise<T>)
  }

  /** A connection of one live peer (for transactions); release() it when done. */
  getConnection(): Promise<Mysql.PoolConnection> {
    return this.c.readyOk(this.skey, (host, port) => this.#pool(host, port).getConnection(), this.opts.readyOk)
  }

  async end(): Promise<void> {
    this.closed = true
    await Promise.all([...this.#pools.values()].map((p) => p.end()))
    this.#pools.clear()
  }

  async #run<T>(fn: (conn: Mysql.PoolConnection) => Promise<T>): Promise<T> {
    this.checkOpen('mysql')
    let lost: Error | undefined
    const r = await this.c.readyOk<Outcome<T> | typeof STOP>(this.skey, async (host, port) => {
      if (lost !== undefined) return STOP
      const conn = await this.#pool(host, port).getConnection()
      try {
        const value = await fn(conn)
        conn.release()
        return { value }
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal !== true) {
          conn.release()
          return { sqlError: err as Error }
        }
        conn.destroy()
        lost = new CheckupsError('CKP_ERR_PEER_LOST', `mysql ${host}:${port} was lost while a query was in flight; it may or may not have run`, { cause: err })
        throw err
      }
    }, this.opts.readyOk)
    if (r === STOP) throw lost
    if ('sqlError' in r) throw r.sqlError
    return r.value
  }

  #pool(host: string, port: number): Mysql.Pool {
    const key = `${host}:${port}`
    let p = this.#pools.get(key)
    if (p === undefined) {
      const [connect] = this.c.getUpsTimeout(this.skey) ?? [60]
      const ups = this.c.getUpstream(this.skey)
      const fromUps = {
        ...(ups?.user != null ? { user: ups.user } : {}), ...(ups?.pass != null ? { password: ups.pass } : {}),
        ...(ups?.name != null ? { database: ups.name } : {}), ...(ups?.charset != null ? { charset: ups.charset } : {}),
      }
      p = load().createPool({ connectTimeout: connect * 1000, ...fromUps, ...this.opts.pool, host, port })
      this.#pools.set(key, p)
    }
    return p
  }
}

export function createMysqlClient(c: ClientCheckups, skey: string, opts: MysqlClientOptions = {}): CheckupsMysql {
  return new CheckupsMysql(c, skey, opts)
}
