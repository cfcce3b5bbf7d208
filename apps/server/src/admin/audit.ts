/**
 * The audit log: one line per admin write (any method but GET/HEAD/OPTIONS), accepted or
 * refused, with method, path, skey, the resulting config version, status and the client.
 * Line shape (stable): `{ event: 'admin_write', method, path, skey, version, status, client }`.
 */
import type { IncomingMessage } from 'node:http'

export interface AuditLogger {
  info(fields: Record<string, unknown>, msg: string): void
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

export const AUDIT_MSG = 'admin write'

export function auditWrite(logger: AuditLogger | undefined, req: IncomingMessage, status: number, body: unknown): void {
  try {
    writeLine(logger, req, status, body)
  } catch {
    // an audit line never breaks the answer it describes
  }
}

function writeLine(logger: AuditLogger | undefined, req: IncomingMessage, status: number, body: unknown): void {
  const method = req.method ?? 'GET'
  if (!logger || READS.has(method)) return
  const path = new URL(req.url ?? '/', 'http://admin').pathname
  const m = /^\/upstreams\/([^/]+)/.exec(path)
  let skey: string | null = null
  try {
    skey = m ? decodeURIComponent(m[1]!) : null
  } catch {
    skey = m?.[1] ?? null
  }
  const v = (body as { version?: unknown } | null)?.version
  logger.info({
    event: 'admin_write', method, path, skey, version: typeof v === 'number' ? v : null, status,
    // the socket is gone when the client hung up (e.g. refused mid-upload)
    client: req.socket?.remoteAddress ?? null,
  }, AUDIT_MSG)
}
