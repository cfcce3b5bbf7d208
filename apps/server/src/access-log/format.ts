/**
 * One access-log entry and its two line formats.
 *
 * JSON line (stable keys): `{ time, client, method, path, status, bytes, duration_ms,
 * upstream, peer, attempts, request_id, worker }`. Combined: nginx's `combined` format
 * followed by `rt=<seconds> upstream=<skey> peer=<host:port> attempts=<n> rid=<id>`.
 */
export interface AccessEntry {
  /** ms since the epoch the request arrived */
  time: number
  client: string
  method: string
  path: string
  status: number
  /** bytes written to the client (status line and headers included) */
  bytes: number
  duration_ms: number
  upstream: string | null
  peer: string | null
  attempts: number
  request_id: string
  worker: number
  referer?: string | undefined
  user_agent?: string | undefined
  http_version?: string | undefined
}

export function jsonLine(e: AccessEntry): string {
  return JSON.stringify({
    time: new Date(e.time).toISOString(), client: e.client, method: e.method, path: e.path, status: e.status,
    bytes: e.bytes, duration_ms: e.duration_ms, upstream: e.upstream, peer: e.peer, attempts: e.attempts,
    request_id: e.request_id, worker: e.worker,
  }) + '\n'
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** nginx's `$time_local`: `10/Oct/2000:13:55:36 +0000`. */
export function timeLocal(ms: number): string {
  const d = new Date(ms)
  const p = (n: number): string => String(n).padStart(2, '0')
  const off = -d.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  const tz = `${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`
  return `${p(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${tz}`
}

function q(v: string | undefined): string {
  return v === undefined || v === '' ? '-' : v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')
}

export function combinedLine(e: AccessEntry): string {
  return `${e.client || '-'} - - [${timeLocal(e.time)}] "${q(e.method)} ${q(e.path)} HTTP/${e.http_version ?? '1.1'}" ${e.status} ${e.bytes} ` +
    `"${q(e.referer)}" "${q(e.user_agent)}" rt=${(e.duration_ms / 1000).toFixed(3)} upstream=${e.upstream ?? '-'} ` +
    `peer=${e.peer ?? '-'} attempts=${e.attempts} rid=${q(e.request_id)}\n`
}
