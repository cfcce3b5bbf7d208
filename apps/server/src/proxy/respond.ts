/**
 * Responses the proxy writes itself: short text bodies naming the cause (400/404/405/413/431/502/503/504).
 * When the client's request body was not fully read, the connection is closed after the
 * answer rather than reading an upload nobody wants (as nginx does).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hasBody } from './body.js'
import type { HttpError } from './errors.js'

/** `workerId`: the value of `x-checkups-worker`, or undefined to send none (the default). */
export function sendError(req: IncomingMessage, res: ServerResponse, err: HttpError, workerId: string | undefined, extra?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  const body = `${err.status} ${err.message}\n`
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-checkups-error': errorTag(err.status),
    ...extra,
  }
  if (workerId !== undefined) headers['x-checkups-worker'] = workerId
  const unread = !req.complete && hasBody(req)
  // HTTP/2 forbids Connection: only the stream ends there, the body is drained
  if (unread && req.httpVersionMajor < 2) headers['connection'] = 'close'
  res.writeHead(err.status, headers)
  res.end(body)
  if (unread) req.resume()
}

function errorTag(status: number): string {
  switch (status) {
    case 400:
      return 'bad-request'
    case 404:
      return 'no-route'
    case 405:
      return 'method-not-allowed'
    case 413:
      return 'body-too-large'
    case 431:
      return 'headers-too-many'
    case 503:
      return 'no-servers'
    case 504:
      return 'timeout'
    default:
      return 'bad-gateway'
  }
}
