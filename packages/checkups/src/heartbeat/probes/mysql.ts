/**
 * `mysql` probe with mysql2 (BEHAVIOR.md §Heartbeat, the original's `heartbeat.mysql`):
 * connect with database `name`, user `user`, password `pass`, `charset`; ok if the handshake
 * (authentication included) succeeds; err with the server's message otherwise
 * (e.g. `Access denied for user ...`). The connection is closed at once.
 */
import mysql from 'mysql2'
import type { ProbeResult, UpstreamLike } from '../types.js'
import { errFrom, ok } from './result.js'
import { ProbeTimeout } from './socket.js'

export function probeMysql(host: string, port: number, timeoutMs: number, ups: UpstreamLike): Promise<ProbeResult> {
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
      conn = mysql.createConnection({
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
