/**
 * The proxy's access log: one line per client request (format.ts), written in batches.
 *
 * Invariants
 * - Lines are buffered and written with one synchronous write per batch (at FLUSH_BYTES or
 *   after FLUSH_MS, and on close), so the request path pays no syscall per request.
 * - A batch holds whole lines and stays under PIPE_BUF when a line allows it, so the lines of
 *   several workers sharing stdout never interleave inside a line.
 * - A write error is reported once through `onError` and the log carries on (a full disk
 *   never fails a request).
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import type { AccessLogConfig } from './config.js'
import { combinedLine, jsonLine, type AccessEntry } from './format.js'

export { parseAccessLog, DEFAULT_ACCESS_LOG, type AccessLogConfig, type AccessLogFormat } from './config.js'
export { jsonLine, combinedLine, type AccessEntry } from './format.js'

const FLUSH_BYTES = 4000
const FLUSH_MS = 100

export interface AccessLog {
  log(entry: AccessEntry): void
  flush(): void
  close(): void
}

const OFF: AccessLog = { log() {}, flush() {}, close() {} }

/** `format: 'off'`: the request path need not build entries (nor request ids) for it. */
export function accessLogOff(log: AccessLog): boolean {
  return log === OFF
}

export function createAccessLog(cfg: AccessLogConfig, onError: (err: unknown) => void = () => {}): AccessLog {
  if (cfg.format === 'off') return OFF
  const fd = cfg.path === null ? 1 : openSync(cfg.path, 'a')
  const line = cfg.format === 'json' ? jsonLine : combinedLine
  let buf = ''
  let timer: NodeJS.Timeout | undefined
  let failed = false
  const flush = (): void => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (buf === '') return
    const out = buf
    buf = ''
    try {
      writeSync(fd, out)
    } catch (err) {
      if (!failed) onError(err)
      failed = true
    }
  }
  return {
    log(entry) {
      const l = line(entry)
      if (buf.length + l.length > FLUSH_BYTES) flush()
      buf += l
      if (buf.length >= FLUSH_BYTES) flush()
      else if (!timer) {
        timer = setTimeout(flush, FLUSH_MS)
        timer.unref()
      }
    },
    flush,
    close() {
      flush()
      if (fd !== 1) closeSync(fd)
    },
  }
}
