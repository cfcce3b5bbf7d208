/**
 * `http` probe (the original's `heartbeat.http`):
 * connect; no `http_opts.query` → ok; else send the query verbatim and read the status line.
 * With `statuses`: a line not matching `HTTP/d.d NNN` → err, `statuses[NNN] === false` → err
 * `bad status code`. Without statuses any status line is ok. The whole probe (connect, send,
 * read) is bounded by `timeout` (one deadline). An upstream with `scheme: 'https'` is probed
 * over TLS with its `tls` settings (CA, client certificate, SNI name, verification), so a
 * peer whose certificate the proxy would refuse is not reported ok.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import type { ResolvedHttpOpts, ResolvedUpstreamTls } from '../../config/types.js'
import type { ProbeResult } from '../contract.js'
import { err, ok } from './result.js'
import { exchange, type OnConnected } from './socket.js'

const STATUS_LINE = /^HTTP\/\d+\.\d+\s+(\d+)/i

/** Judges a status line against `statuses` (pure; exported for tests). */
export function judgeStatusLine(line: string, statuses: ResolvedHttpOpts['statuses']): ProbeResult {
  if (!statuses) return ok()
  const m = STATUS_LINE.exec(line)
  if (!m) return err('bad status line')
  return statuses[m[1] as string] === false ? err('bad status code') : ok()
}

/** TLS connect options of an https upstream (files read on each probe: a few per round). */
export function probeTls(t: ResolvedUpstreamTls | null, host: string): ConnectionOptions {
  const o: ConnectionOptions = { rejectUnauthorized: t?.reject_unauthorized !== false }
  if (t?.ca) o.ca = readFileSync(t.ca)
  if (t?.cert) o.cert = readFileSync(t.cert)
  if (t?.key) o.key = readFileSync(t.key)
  const name = t?.servername ?? (isIP(host) === 0 ? host : undefined)
  if (name) o.servername = name
  return o
}

export async function probeHttp(host: string, port: number, timeoutMs: number, opts: ResolvedHttpOpts | null, secure?: { scheme: 'http' | 'https'; tls: ResolvedUpstreamTls | null }, onConnected?: OnConnected): Promise<ProbeResult> {
  try {
    const tls = secure?.scheme === 'https' ? probeTls(secure.tls, host) : undefined
    const line = await exchange(host, port, timeoutMs, opts?.query ?? null, tls, onConnected)
    return line === null ? ok() : judgeStatusLine(line, opts?.statuses ?? null)
  } catch (e) {
    return err((e as Error).message)
  }
}
