/**
 * The admin listener (control plane): one per worker, all sharing the port through
 * node:cluster, loopback by default.
 *
 * Request pipeline, each step a small function: worker header → token → route → body →
 * handler → send. Every response, errors included, carries `x-checkups-worker: <id>`.
 * Invariants
 * - With `token` set, a request without `Authorization: Bearer <token>` gets 401 before
 *   routing (no endpoint leaks its existence).
 * - A body is read only for methods that carry one, up to `bodyLimit` bytes (413 beyond),
 *   and must be JSON when not empty (400 ADM_ERR_BAD_JSON).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { assertJsonContentType, parseJsonStrict } from './body.js'
import { AdminError, errorResponse } from './errors.js'
import { adminMetrics, metricsSource } from './metrics.js'
import { registerAll } from './routes/index.js'
import { isDashboardFile } from './routes/dashboard.js'
import { auditWrite, type AuditLogger } from './audit.js'
import { Router, type AdminContext, type AdminRequest, type AdminResponse } from './router.js'

export const WORKER_HEADER = 'x-checkups-worker'

export interface AdminServerOptions {
  token?: string | undefined
  bodyLimit: number
  /** defaults to every module of ./routes */
  router?: Router
  /** where the audit log of admin writes goes (audit.ts) */
  logger?: AuditLogger
}

export function createAdminServer(ctx: AdminContext, opts: AdminServerOptions): Server {
  const router = opts.router ?? registerAll(new Router())
  const metrics = adminMetrics(metricsSource(ctx))
  return createServer((req, res) => {
    res.setHeader(WORKER_HEADER, String(ctx.worker.id))
    const route = { pattern: 'unmatched' }
    res.once('finish', () => metrics.recordRequest(req.method ?? 'GET', route.pattern, res.statusCode))
    handle(req, ctx, router, opts, route).then(
      (answer) => {
        send(res, answer)
        auditWrite(opts.logger, req, answer.status, answer.body)
      },
      (err: unknown) => {
        const { status, body } = errorResponse(err)
        send(res, { status, body })
        auditWrite(opts.logger, req, status, body)
      },
    )
  })
}

async function handle(
  req: IncomingMessage, ctx: AdminContext, router: Router, opts: AdminServerOptions, route: { pattern: string },
): Promise<AdminResponse> {
  const url = new URL(req.url ?? '/', 'http://admin')
  const method = req.method ?? 'GET'
  // the dashboard's static files hold no data: the page asks for the token and sends it itself
  if (!(method === 'GET' && isDashboardFile(url.pathname))) checkToken(req, opts.token)
  const { handler, params, pattern } = router.match(method, url.pathname)
  route.pattern = pattern
  const body = await readJsonBody(req, opts.bodyLimit)
  const request: AdminRequest = { method, path: url.pathname, params, query: url.searchParams, headers: req.headers, body }
  return handler(request, ctx)
}

function checkToken(req: IncomingMessage, token: string | undefined): void {
  if (token === undefined) return
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')
  // fixed-length digests: the comparison takes the same time whatever the token's length
  if (!timingSafeEqual(digest(m?.[1] ?? ''), digest(token))) {
    throw new AdminError('ADM_ERR_UNAUTHORIZED', 401, 'missing or invalid bearer token')
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
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

function send(res: ServerResponse, answer: AdminResponse): void {
  if (res.headersSent) return
  for (const [k, v] of Object.entries(answer.headers ?? {})) res.setHeader(k, v)
  if (answer.stream) {
    res.statusCode = answer.status
    answer.stream(res)
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
  res.end(payload)
}
