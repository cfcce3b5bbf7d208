/**
 * Responses the proxy writes itself: short text bodies naming the cause (404/502/503/504).
 * When the client's request body was not fully read, the connection is closed after the
 * answer rather than reading an upload nobody wants (as nginx does).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hasBody } from './body.js'
import type { HttpError } from './errors.js'

export function sendError(req: IncomingMessage, res: ServerResponse, err: HttpError, workerId: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  const body = `${err.status} ${err.message}\n`
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-checkups-worker': workerId,
    'x-checkups-error': errorTag(err.status),
  }
  const unread = !req.complete && hasBody(req)
  if (unread) headers['connection'] = 'close'
  res.writeHead(err.status, headers)
  res.end(body)
  if (unread) req.resume()
}

function errorTag(status: number): string {
  switch (status) {
    case 404:
      return 'no-route'
    case 503:
      return 'no-servers'
    case 504:
      return 'timeout'
    default:
      return 'bad-gateway'
  }
}
