/**
 * The one parser of listen addresses (`server.listen`, `server.admin.listen`, `--listen`,
 * `--admin`, demo backends): `host:port`, `[v6]:port`, `:port` or `port`; the host defaults
 * to 127.0.0.1 (loopback: nothing is exposed unless asked for).
 */
import { isIP } from 'node:net'
import { hostProblem } from '@checkups/core'
import { ConfigFileError } from './errors.js'

export interface ListenAddress { readonly host: string; readonly port: number }

export function parseListen(value: unknown, where = 'server.listen'): ListenAddress {
  if (typeof value === 'object' && value !== null && 'host' in value && 'port' in value) {
    const o = value as { host: unknown; port: unknown }
    value = `${String(o.host).includes(':') ? `[${String(o.host)}]` : String(o.host)}:${String(o.port)}`
  }
  const bad = (): ConfigFileError => new ConfigFileError(`${where}: expected HOST:PORT, got ${JSON.stringify(value)}`)
  if (typeof value === 'number') value = String(value)
  if (typeof value !== 'string') throw bad()
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value)
  if (!m) throw bad()
  const port = Number(m[3])
  if (!Number.isInteger(port) || port > 65535) throw bad()
  const host = m[1] || m[2] || '127.0.0.1'
  if (m[1] !== undefined && m[1] !== '' && isIP(m[1]) !== 6) throw bad()
  if (hostProblem(host) !== undefined) throw bad()
  return { host, port }
}

/** `127.0.0.0/8`, `::1`, `localhost`: reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase()
  return h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

export function formatListen(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}
