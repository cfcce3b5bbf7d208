/**
 * `mysql` probe with mysql2 (the original's `heartbeat.mysql`):
 * connect with database `name`, user `user`, password `pass`, `charset`; ok if the handshake
 * (authentication included) succeeds; err with the server's message otherwise
 * (e.g. `Access denied for user ...`). The connection is closed at once.
 * mysql2 is loaded on first use: most fleets never probe MySQL, and worker start-up pays for
 * every import.
 */
import type mysql from 'mysql2'
import type { ResolvedUpstream } from '../../config/types.js'
import type { ProbeResult } from '../contract.js'
import { errFrom, ok } from './result.js'
import { ProbeTimeout } from './socket.js'

let driver: Promise<typeof mysql> | undefined

export async function probeMysql(host: string, port: number, timeoutMs: number, ups: Pick<ResolvedUpstream, 'name' | 'user' | 'pass' | 'charset'>): Promise<ProbeResult> {
  const lib = await (driver ??= import('mysql2').then((m) => m.default))
  return new Promise((resolve) => {
    let settled = false
    let conn: mysql.Connection | undefined
    const finish = (r: ProbeResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      conn?.destroy()
      resolve(r)
    }
    const timer = setTimeout(() => finish(errFrom(new ProbeTimeout())), timeoutMs)
    try {
      conn = lib.createConnection({
        host, port, connectTimeout: timeoutMs,
        ...(ups.name ? { database: ups.name } : {}),
        ...(ups.user != null ? { user: ups.user } : {}),
        ...(ups.pass != null ? { password: ups.pass } : {}),
        ...(ups.charset ? { charset: ups.charset } : {}),
      })
    } catch (e) {
      finish(errFrom(e))
      return
    }
    conn.on('error', (e) => finish(errFrom(e)))
    conn.connect((e) => finish(e ? errFrom(e) : ok()))
  })
}
