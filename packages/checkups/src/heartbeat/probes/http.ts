/**
 * `http` probe (the original's `heartbeat.http`):
 * connect; no `http_opts.query` → ok; else send the query verbatim and read the status line.
 * With `statuses`: a line not matching `HTTP/d.d NNN` → err, `statuses[NNN] === false` → err
 * `bad status code`. Without statuses any status line is ok. The whole probe (connect, send,
 * read) is bounded by `timeout` (one deadline).
 */
import type { ResolvedHttpOpts } from '../../config/types.js'
import type { ProbeResult } from '../contract.js'
import { err, ok } from './result.js'
import { exchange } from './socket.js'

const STATUS_LINE = /^HTTP\/\d+\.\d+\s+(\d+)/i

/** Judges a status line against `statuses` (pure; exported for tests). */
export function judgeStatusLine(line: string, statuses: ResolvedHttpOpts['statuses']): ProbeResult {
  if (!statuses) return ok()
  const m = STATUS_LINE.exec(line)
  if (!m) return err('bad status line')
  return statuses[m[1] as string] === false ? err('bad status code') : ok()
}

export async function probeHttp(host: string, port: number, timeoutMs: number, opts: ResolvedHttpOpts | null): Promise<ProbeResult> {
  try {
    const line = await exchange(host, port, timeoutMs, opts?.query ?? null)
    return line === null ? ok() : judgeStatusLine(line, opts?.statuses ?? null)
  } catch (e) {
    return err((e as Error).message)
  }
}
