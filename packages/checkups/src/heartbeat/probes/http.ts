/**
 * `http` probe (the original's `heartbeat.http`):
 * connect; no `http_opts.query` → ok; else send the query verbatim and read the status line.
 * With `statuses`: a line not matching `HTTP/d.d NNN` → err, `statuses[NNN] === false` → err
 * `bad status code`. Without statuses any status line is ok. The whole probe (connect, send,
 * read) is bounded by `timeout` (one deadline). An upstream with `scheme: 'https'` is probed
 * over TLS with its `tls` settings (CA, client certificate, SNI name, verification), so a
 * peer whose certificate the proxy would refuse is not reported ok.
 */
import type { ResolvedHttpOpts, ResolvedUpstreamTls } from '../../config/types.js'
import type { ProbeResult } from '../contract.js'
import { upstreamTlsOptions } from '../../tls.js'
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

/**
 * `secure`: the upstream's scheme and `tls` section, and the hostname `host` was resolved from
 * (global.dns) — an https peer is verified against that name, not its address.
 */
export async function probeHttp(host: string, port: number, timeoutMs: number, opts: ResolvedHttpOpts | null,
  secure?: { scheme: 'http' | 'https'; tls: ResolvedUpstreamTls | null; resolvedFrom?: string | undefined }, onConnected?: OnConnected): Promise<ProbeResult> {
  try {
    const tls = secure?.scheme === 'https' ? upstreamTlsOptions(secure.tls, host, secure.resolvedFrom) : undefined
    const line = await exchange(host, port, timeoutMs, opts?.query ?? null, tls, onConnected)
    return line === null ? ok() : judgeStatusLine(line, opts?.statuses ?? null)
  } catch (e) {
    return err((e as Error).message)
  }
}
