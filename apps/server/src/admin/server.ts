/**
 * The admin listener (control plane): one per worker, all sharing the port through
 * node:cluster, loopback by default.
 *
 * Request pipeline, each step a small function: worker header → token → route → body →
 * handler → send. Every response, errors included, carries `x-checkups-worker: <id>`.
 * Invariants
 * - Tokens and roles: ./security.ts (401 with WWW-Authenticate before routing, 403 for a read
 *   token on a write). HEAD gets the GET answer's headers without its body.
 * - A body is read only for methods that carry one, up to `bodyLimit` bytes (413 beyond),
 *   and must be JSON when not empty (400 ADM_ERR_BAD_JSON).
 * - A request the HTTP parser refuses (bad request line, header bytes, framing) still gets a
 *   JSON error — 400 ADM_ERR_BAD_REQUEST, 431 for an oversized head — and the connection closes.
 */
import type { Duplex } from 'node:stream'
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { assertJsonContentType, parseJsonStrict } from './body.js'
import { AdminError, errorResponse } from './errors.js'
import { adminMetrics, metricsSource } from './metrics.js'
import { registerAll } from './routes/index.js'
import { isDashboardFile } from './routes/dashboard.js'
import { auditWrite, type AuditLogger } from './audit.js'
import { Router, type AdminContext, type AdminRequest, type AdminResponse } from './router.js'
import { adminTokens, authorize, type AdminToken } from './security.js'

export const WORKER_HEADER = 'x-checkups-worker'

export interface AdminServerOptions {
  /** the write token */
  token?: string | undefined
  /** a token for GET/HEAD only */
  readToken?: string | undefined
  bodyLimit: number
  /** defaults to every module of ./routes */
  router?: Router
  /** serve HTTPS with this certificate and key (PEM) */
  tls?: { cert: Buffer | string; key: Buffer | string } | undefined
  /** where the audit log of admin writes goes (audit.ts) */
  logger?: AuditLogger
}

export function createAdminServer(ctx: AdminContext, opts: AdminServerOptions): Server {
  const router = opts.router ?? registerAll(new Router())
  const tokens = adminTokens(opts.token, opts.readToken)
  const metrics = adminMetrics(metricsSource(ctx))
  const listener: RequestListener = (req, res) => {
    res.setHeader(WORKER_HEADER, String(ctx.worker.id))
    const route = { pattern: 'unmatched' }
    res.once('finish', () => metrics.recordRequest(req.method ?? 'GET', route.pattern, res.statusCode))
    const head = req.method === 'HEAD'
    handle(req, ctx, router, opts, tokens, route).then(
      (answer) => {
        send(res, answer, head)
        auditWrite(opts.logger, req, answer.status, answer.body)
      },
      (err: unknown) => {
        const answer = errorResponse(err)
        send(res, answer, head)
        auditWrite(opts.logger, req, answer.status, answer.body)
      },
    )
  }
  const server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, listener) : createServer(listener)
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => clientError(err, socket, ctx.worker.id))
  return server
}

/** The parser's refusal as a JSON error (node would send a bare 400), then the connection closes. */
function clientError(err: Error & { code?: string }, socket: Duplex, workerId: number): void {
  if (!socket.writable || (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy()
    return
  }
  const big = err.code === 'HPE_HEADER_OVERFLOW'
  const status = big ? 431 : 400
  const text = JSON.stringify({ error: { code: 'ADM_ERR_BAD_REQUEST', message: big ? 'request header fields too large' : `malformed HTTP request (${err.code ?? 'parse error'})` } })
  socket.end(`HTTP/1.1 ${status} ${big ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${WORKER_HEADER}: ${workerId}\r\nconnection: close\r\n\r\n${text}`)
}

async function handle(
  req: IncomingMessage, ctx: AdminContext, router: Router, opts: AdminServerOptions, tokens: readonly AdminToken[],
  route: { pattern: string },
): Promise<AdminResponse> {
  const url = new URL(req.url ?? '/', 'http://admin')
  const method = req.method ?? 'GET'
  // the dashboard's static files hold no data: the page asks for the token and sends it itself
  if (!((method === 'GET' || method === 'HEAD') && isDashboardFile(url.pathname))) authorize(req, tokens)
  const { handler, params, pattern } = router.match(method, url.pathname)
  route.pattern = pattern
  const body = await readJsonBody(req, opts.bodyLimit)
  const request: AdminRequest = { method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body }
  return handler(request, ctx)
}

const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS'])

async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  if (BODYLESS.has(req.method ?? 'GET')) {
    req.resume()
    return undefined
  }
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return undefined
  assertJsonContentType(req.headers)
  return parseJsonStrict(text) // 400 on malformed JSON or a `__proto__`/`constructor`/`prototype` key
}

function tooLarge(limit: number): AdminError {
  return new AdminError('ADM_ERR_BODY_TOO_LARGE', 413, `request body larger than ${limit} bytes`)
}

function send(res: ServerResponse, answer: AdminResponse, head = false): void {
  if (res.headersSent) return
  for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v)
  if (answer.stream) {
    res.statusCode = answer.status
    if (head) res.end() // HEAD: the stream's headers, no events
    else answer.stream(res)
    return
  }
  let payload: string
  if (typeof answer.body === 'string') {
    payload = answer.body
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8')
  } else {
    payload = JSON.stringify(answer.body ?? null)
    res.setHeader('content-type', 'application/json')
  }
  res.statusCode = answer.status
  res.setHeader('content-length', Buffer.byteLength(payload))
  res.end(head ? undefined : payload)
}
