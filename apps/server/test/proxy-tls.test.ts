/**
 * TLS both ways with certificates made by openssl in the test: the HTTPS listener
 * (server.tls: cert/key, min_version, ca = client certificates), https upstreams with
 * keep-alive pools and verification, the http heartbeat of an https upstream over TLS, and
 * a WebSocket to a wss peer.
 */
import { createServer as createHttpsServer, request, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanupAfterEach } from './fixtures/cleanup.js'
import WebSocket, { WebSocketServer } from 'ws'
import { makeCerts, type Certs } from './fixtures/certs.js'
import { startBackend } from './fixtures/backend.js'
import { get } from './fixtures/client.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())

const cleanup = cleanupAfterEach()

interface Got {
  status: number
  text: string
  headers: Record<string, string | string[] | undefined>
  serial: string
}

function fetchTls(port: number, path: string, opts: { ca?: string; cert?: string; key?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3'; host?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: 'localhost',
        headers: { host: opts.host ?? 'localhost' },
        ca: readFileSync(opts.ca ?? certs.ca),
        ...(opts.cert ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key as string) } : {}),
        ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
        agent: false,
      },
      (res) => {
        let text = ''
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber ?? ''
        res.on('data', (c: Buffer) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers, serial: serial.toUpperCase() }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** an https backend answering JSON with its name, the path and whether the connection is new */
async function httpsBackend(name: string): Promise<{ port: number; connections: () => number; server: HttpsServer }> {
  let connections = 0
  const server = createHttpsServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `https://127.0.0.1:${(server.address() as AddressInfo).port}/landing`, 'content-length': '0' })
      return void res.end()
    }
    const body = JSON.stringify({ backend: name, url: req.url, proto: req.headers['x-forwarded-proto'] })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) })
    res.end(body)
  })
  server.on('secureConnection', () => connections++)
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(`${name}: ${d.toString()}`)))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate()
        server.close(() => r())
        server.closeAllConnections()
      }),
  )
  return { port: (server.address() as AddressInfo).port, connections: () => connections, server }
}

async function proxy(config: Record<string, unknown>, routes: unknown[], server: Record<string, unknown> = {}, heartbeat = false): Promise<TestProxy> {
  const p = await startTestProxy({ global: { default_heartbeat_enable: heartbeat, checkup_timer_interval: 0.2 }, ...config }, routes, { server, heartbeat })
  cleanup.push(() => p.close())
  return p
}

describe('HTTPS listener', () => {
  it('serves over TLS with the configured certificate; X-Forwarded-Proto https; Location rewritten to https', async () => {
    const b = await startBackend('t1')
    cleanup.push(() => b.close())
    const p = await proxy({ api: { cluster: [{ servers: servers([b.port]) }] } }, [{ upstream: 'api' }], { tls: { cert: certs.cert, key: certs.key } })
    const r = await fetchTls(p.port, '/headers')
    expect(r.status).toBe(200)
    expect(r.serial).toBe(certs.serial(certs.cert))
    expect(JSON.parse(r.text).headers['x-forwarded-proto']).toBe('https')
    const redir = await fetchTls(p.port, '/redirect', { host: 'shop.test' })
    expect(redir.headers['location']).toBe('https://shop.test/landing')
  })

  it('min_version TLSv1.3 refuses a TLS 1.2 client', async () => {
    const b = await startBackend('t2')
    cleanup.push(() => b.close())
    const p = await proxy({ api: { cluster: [{ servers: servers([b.port]) }] } }, [{ upstream: 'api' }], { tls: { cert: certs.cert, key: certs.key, min_version: 'TLSv1.3' } })
    await expect(fetchTls(p.port, '/x', { maxVersion: 'TLSv1.2' })).rejects.toThrow()
    expect((await fetchTls(p.port, '/x')).status).toBe(200)
  })

  it('ca: clients must present a certificate signed by it', async () => {
    const b = await startBackend('t3')
    cleanup.push(() => b.close())
    const p = await proxy({ api: { cluster: [{ servers: servers([b.port]) }] } }, [{ upstream: 'api' }], { tls: { cert: certs.cert, key: certs.key, ca: certs.ca } })
    await expect(fetchTls(p.port, '/x')).rejects.toThrow()
    expect((await fetchTls(p.port, '/x', { cert: certs.clientCert, key: certs.clientKey })).status).toBe(200)
  })

  it('an unreadable certificate or a key that does not match refuses the start', async () => {
    await expect(proxy({ api: { cluster: [{ servers: servers([1]) }] } }, [{ upstream: 'api' }], { tls: { cert: '/nonexistent.pem', key: certs.key } })).rejects.toThrow('server.tls.cert: cannot read')
    await expect(proxy({ api: { cluster: [{ servers: servers([1]) }] } }, [{ upstream: 'api' }], { tls: { cert: certs.cert, key: certs.clientKey } })).rejects.toThrow('server.tls')
  })
})

describe('https upstreams', () => {
  const tlsUps = (port: number, tls: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    api: { scheme: 'https', tls, timeout: 2, ...extra, cluster: [{ servers: servers([port]) }] },
  })

  it('verified TLS to the peer with keep-alive: 30 requests over one connection', async () => {
    const b = await httpsBackend('s1')
    const p = await proxy(tlsUps(b.port, { ca: certs.ca, servername: 'localhost' }), [{ upstream: 'api' }])
    for (let i = 0; i < 30; i++) {
      const r = await fetch(`${p.url}/n/${i}`)
      expect(r.status).toBe(200)
      expect(((await r.json()) as { url: string }).url).toBe(`/n/${i}`)
    }
    expect(b.connections()).toBe(1)
  })

  it('a peer certificate from another CA → 502 (verification on by default); reject_unauthorized: false accepts it', async () => {
    const b = await httpsBackend('s2')
    const strict = await proxy(tlsUps(b.port, { ca: certs.otherCa, servername: 'localhost' }), [{ upstream: 'api' }])
    expect((await fetch(`${strict.url}/x`)).status).toBe(502)
    const lax = await proxy(tlsUps(b.port, { reject_unauthorized: false }), [{ upstream: 'api' }])
    expect((await fetch(`${lax.url}/x`)).status).toBe(200)
  })

  it('Location naming the https peer is rewritten to the client origin', async () => {
    const b = await httpsBackend('s3')
    const p = await proxy(tlsUps(b.port, { ca: certs.ca, servername: 'localhost' }), [{ upstream: 'api' }])
    const r = await get(`${p.url}/redirect`, { host: 'shop.test' })
    expect(r.status, r.text).toBe(302)
    expect(r.headers['location']).toBe('http://shop.test/landing')
  })

  it('the http heartbeat of an https upstream checks over TLS: ok with the right CA, err with another', async () => {
    const b = await httpsBackend('s4')
    const hb = { typ: 'http', protected: false, http_opts: { query: 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n', statuses: { 200: true, 500: false } } }
    const good = await proxy(tlsUps(b.port, { ca: certs.ca, servername: 'localhost' }, hb), [{ upstream: 'api' }], {}, true)
    const bad = await proxy({ other: tlsUps(b.port, { ca: certs.otherCa, servername: 'localhost' }, hb).api }, [{ upstream: 'other' }], {}, true)
    const status = (p: TestProxy, skey: string) => {
      const st = p.checkups.getStatus() as unknown as Record<string, Array<Array<{ status: string; msg?: string | null }>>>
      return st[`cls:${skey}`]?.[0]?.[0]
    }
    // two finished rounds on each (last_check_time is written once a round is through)
    const rounds = (p: TestProxy) => p.checkups.getStatus().last_check_time
    for (let i = 0; i < 100 && (rounds(good) === null || rounds(bad) === null); i++) await new Promise((r) => setTimeout(r, 100))
    await new Promise((r) => setTimeout(r, 500))
    expect(status(good, 'api')?.status).toBe('ok')
    expect(status(bad, 'other')?.status).toBe('err')
    expect(status(bad, 'other')?.msg).toMatch(/certificate/i)
  })

  it('a WebSocket to a wss peer', async () => {
    const b = await httpsBackend('s5')
    const p = await proxy(tlsUps(b.port, { ca: certs.ca, servername: 'localhost' }), [{ upstream: 'api' }])
    const ws = new WebSocket(`ws://127.0.0.1:${p.port}/chat`)
    cleanup.push(() => ws.terminate())
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    const got = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())))
    ws.send('hi')
    expect(await got).toBe('s5: hi')
  })
})
