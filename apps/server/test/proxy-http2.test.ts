/**
 * HTTP/2 by ALPN on the TLS listener (`server.http2: true`), forwarded to HTTP/1.1 peers, with
 * HTTP/1.1 still served on the same port. Certificates made by openssl in the test.
 */
import { readFileSync } from 'node:fs'
import { connect, type ClientHttp2Session } from 'node:http2'
import { request } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanupAfterEach } from './fixtures/cleanup.js'
import { makeCerts, type Certs } from './fixtures/certs.js'
import { startBackend } from './fixtures/backend.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())
const cleanup = cleanupAfterEach()

async function setup(): Promise<TestProxy> {
  const b = await startBackend('h1')
  cleanup.push(() => b.close())
  const p = await startTestProxy(
    { global: { default_heartbeat_enable: false }, api: { cluster: [{ servers: servers([b.port]) }] } },
    [{ upstream: 'api', max_body_size: 1 << 20 }],
    { server: { tls: { cert: certs.cert, key: certs.key }, http2: true } },
  )
  cleanup.push(() => p.close())
  return p
}

function session(port: number): ClientHttp2Session {
  const s = connect(`https://localhost:${port}`, { ca: readFileSync(certs.ca), host: '127.0.0.1', servername: 'localhost' } as never)
  cleanup.push(() => void s.destroy())
  return s
}

function h2(s: ClientHttp2Session, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const r = s.request(headers)
    let status = 0
    let hdrs: Record<string, unknown> = {}
    let text = ''
    r.on('response', (h) => {
      status = Number(h[':status'])
      hdrs = h
    })
    r.on('data', (c: Buffer) => (text += c))
    r.on('end', () => resolve({ status, headers: hdrs, text }))
    r.on('error', reject)
    r.end(body)
  })
}

describe('HTTP/2 on the TLS listener', () => {
  it('GET over h2: :authority becomes Host, pseudo-headers are not forwarded, X-Forwarded-Proto https', async () => {
    const p = await setup()
    const s = session(p.port)
    const r = await h2(s, { ':path': '/headers?q=1', ':authority': 'shop.test' })
    expect(r.status).toBe(200)
    const seen = JSON.parse(r.text) as { url: string; headers: Record<string, string> }
    expect(seen.url).toBe('/headers?q=1')
    expect(seen.headers['host']).toBe('shop.test')
    expect(seen.headers['x-forwarded-proto']).toBe('https')
    expect(Object.keys(seen.headers).filter((k) => k.startsWith(':'))).toEqual([])
  })

  it('a POST body without Content-Length streams through; 20 concurrent streams on one session', async () => {
    const p = await setup()
    const s = session(p.port)
    const posted = await h2(s, { ':path': '/echo-count', ':method': 'POST', ':authority': 'a' }, 'x'.repeat(50_000))
    expect(JSON.parse(posted.text).received).toBe(50_000)
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => h2(s, { ':path': `/n/${i}`, ':authority': 'a' })))
    many.forEach((r, i) => expect(JSON.parse(r.text).url).toBe(`/n/${i}`))
  })

  it('refusals keep their status over h2 (400 bad path, 413 body)', async () => {
    const p = await setup()
    const s = session(p.port)
    expect((await h2(s, { ':path': '/a/..%2fb', ':authority': 'a' })).status).toBe(400)
    const big = 'x'.repeat(3 << 19)
    expect((await h2(s, { ':path': '/echo-count', ':method': 'POST', ':authority': 'a', 'content-length': String(big.length) }, big)).status).toBe(413)
  })

  it('HTTP/1.1 clients are still served on the same port', async () => {
    const p = await setup()
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: p.port, path: '/x', servername: 'localhost', ca: readFileSync(certs.ca), agent: false }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(200)
  })

  it('a WebSocket (HTTP/1.1 Upgrade) works on the HTTP/2 listener', async () => {
    const { WebSocketServer, default: WebSocket } = await import('ws')
    const { createServer } = await import('node:http')
    const backend = createServer()
    const wss = new WebSocketServer({ server: backend })
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(`echo ${d.toString()}`)))
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r))
    cleanup.push(() => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), backend.close(() => r()))))
    const port = (backend.address() as { port: number }).port
    const p = await startTestProxy(
      { global: { default_heartbeat_enable: false }, api: { cluster: [{ servers: servers([port]) }] } },
      [{ upstream: 'api' }],
      { server: { tls: { cert: certs.cert, key: certs.key }, http2: true } },
    )
    cleanup.push(() => p.close())
    const ws = new WebSocket(`wss://127.0.0.1:${p.port}/chat`, { ca: readFileSync(certs.ca), servername: 'localhost' })
    cleanup.push(() => ws.terminate())
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)))
    const got = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())))
    ws.send('hi')
    expect(await got).toBe('echo hi')
  })

  it('server.http2 without server.tls is refused', async () => {
    await expect(startTestProxy({ global: { default_heartbeat_enable: false }, api: { cluster: [{ servers: servers([1]) }] } }, [{ upstream: 'api' }], { server: { http2: true } })).rejects.toThrow('server.http2: needs server.tls')
  })
})
