/**
 * A demo backend: a tiny HTTP server that says who answered, so `curl` through the proxy
 * shows the balancing. Routes: `/health` → 200 `ok`; `/status/<code>` → that status;
 * `/slow?ms=<n>` → answers after n ms (max 60 s); anything else → 200 JSON describing the
 * request (backend, worker, method, url, x-forwarded-*).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

const MAX_SLOW_MS = 60_000

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) })
  res.end(body)
}

function describe(name: string, req: IncomingMessage): string {
  return `${JSON.stringify({
    backend: name,
    pid: process.pid,
    method: req.method,
    url: req.url,
    host: req.headers.host,
    'x-forwarded-for': req.headers['x-forwarded-for'],
    'x-forwarded-proto': req.headers['x-forwarded-proto'],
    time: new Date().toISOString(),
  })}\n`
}

export function createDemoBackend(name: string): Server {
  return createServer((req, res) => {
    req.resume()
    const url = new URL(req.url ?? '/', 'http://demo')
    if (url.pathname === '/health') return send(res, 200, 'ok\n', 'text/plain')
    const m = /^\/status\/(\d{3})$/.exec(url.pathname)
    if (m) return send(res, Number(m[1]), describe(name, req))
    if (url.pathname === '/slow') {
      const ms = Math.min(Number(url.searchParams.get('ms') ?? 1000) || 0, MAX_SLOW_MS)
      const t = setTimeout(() => send(res, 200, describe(name, req)), ms)
      res.on('close', () => clearTimeout(t))
      return
    }
    send(res, 200, describe(name, req))
  })
}
