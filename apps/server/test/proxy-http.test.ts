/**
 * HTTP correctness of the proxy: routing (host, longest prefix, strip), 404, hop-by-hop
 * headers, X-Forwarded-*, Host pass-through, client abort → upstream abort.
 */
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from './fixtures/backend.js'
import { get } from './fixtures/client.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

async function setup(routes: unknown[], serverExtra: Record<string, unknown> = {}): Promise<{ p: TestProxy; bs: Backend[] }> {
  const bs = await Promise.all(['b1', 'b2', 'b3'].map((n) => startBackend(n)))
  for (const b of bs) cleanup.push(() => b.close())
  const config: Record<string, unknown> = { global: { default_heartbeat_enable: false } }
  bs.forEach((b, i) => (config[`u${i + 1}`] = { cluster: [{ servers: servers([b.port], serverExtra) }] }))
  const p = await startTestProxy(config, routes)
  cleanup.push(() => p.close())
  return { p, bs }
}

describe('proxy: routing', () => {
  const routes = [
    { path_prefix: '/api', upstream: 'u1', strip_prefix: true },
    { path_prefix: '/api/v2', upstream: 'u2' },
    { host: 'admin.example.com', path_prefix: '/', upstream: 'u3' },
    { host: '*.example.org', path_prefix: '/api', upstream: 'u3' },
  ]
  it.each([
    // [host, path, backend, path seen by the backend]
    ['localhost', '/api/users?id=1', 'b1', '/users?id=1'],
    ['localhost', '/api', 'b1', '/'],
    ['localhost', '/api/v2/users', 'b2', '/api/v2/users'],
    ['admin.example.com:8080', '/api/users', 'b3', '/api/users'],
    ['ADMIN.example.com', '/other', 'b3', '/other'],
    ['a.example.org', '/api/x', 'b3', '/api/x'],
    ['example.org', '/api/x', 'b1', '/x'],
  ])('Host %s %s → %s sees %s', async (host, path, backend, seen) => {
    const { p } = await setup(routes)
    const r = await get(`${p.url}${path}`, { host })
    expect(r.status).toBe(200)
    expect(JSON.parse(r.text)).toEqual({ backend, url: seen })
  })

  it('no matching route → 404 with a clear body', async () => {
    const { p } = await setup([{ path_prefix: '/api', upstream: 'u1' }])
    const r = await get(`${p.url}/nothing/here`, { host: 'shop.test' })
    expect(r.status).toBe(404)
    expect(r.text).toBe('404 no route for shop.test/nothing/here\n')
    expect(r.headers['x-checkups-worker']).toBeUndefined()
  })
})

describe('proxy: headers', () => {
  it('drops hop-by-hop headers both ways, appends X-Forwarded-For, sets -Proto/-Host, passes Host', async () => {
    const { p } = await setup([{ upstream: 'u1' }])
    const r = await get(`${p.url}/headers`, {
      host: 'shop.test:81',
      connection: 'keep-alive, x-secret',
      'keep-alive': 'timeout=5',
      'x-secret': 'hop',
      te: 'trailers',
      'proxy-authorization': 'Basic eA==',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-custom': 'kept',
    })
    expect(r.status).toBe(200)
    const seen = (JSON.parse(r.text) as { headers: Record<string, string> }).headers
    expect(seen['host']).toBe('shop.test:81')
    expect(seen['x-custom']).toBe('kept')
    expect(seen['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1')
    expect(seen['x-forwarded-proto']).toBe('http')
    expect(seen['x-forwarded-host']).toBe('shop.test:81')
    for (const h of ['x-secret', 'te', 'proxy-authorization', 'keep-alive']) expect(seen[h]).toBeUndefined()
    expect(r.headers['x-checkups-worker']).toBeUndefined()
  })

  it('removes hop-by-hop headers of the response, including those named in its Connection', async () => {
    const b = await startBackend('raw')
    cleanup.push(() => b.close())
    b.server.removeAllListeners('request')
    b.server.on('request', (_req, res) => {
      res.setHeader('connection', 'x-internal')
      res.setHeader('x-internal', 'secret')
      res.setHeader('proxy-authenticate', 'Basic')
      res.setHeader('x-public', 'yes')
      res.end('hi')
    })
    const p = await startTestProxy({ global: { default_heartbeat_enable: false }, u: { cluster: [{ servers: servers([b.port]) }] } }, [{ upstream: 'u' }])
    cleanup.push(() => p.close())
    const r = await get(`${p.url}/`)
    expect(r.text).toBe('hi')
    expect(r.headers['x-public']).toBe('yes')
    expect(r.headers['x-internal']).toBeUndefined()
    expect(r.headers['proxy-authenticate']).toBeUndefined()
  })
})

describe('proxy: client abort', () => {
  it('a client that goes away aborts the upstream request', async () => {
    const { p, bs } = await setup([{ upstream: 'u1' }], { max_fails: 1 })
    const b = bs[0] as Backend
    b.mode = 'hang'
    const upstreamClosed = new Promise<void>((resolve) => {
      b.server.once('request', (req) => req.socket.once('close', () => resolve()))
    })
    const req = request(`${p.url}/hang`)
    req.on('error', () => {})
    req.end()
    while (b.hits === 0) await new Promise((r) => setTimeout(r, 10))
    req.destroy()
    await upstreamClosed
    // the peer was not blamed for the client's departure
    const st = p.checkups.getStatus() as unknown as Record<string, Array<Array<Record<string, unknown>>>>
    const passive = st['cls:u1']?.[0]?.[0]?.['passive'] as { count: number } | undefined
    expect(passive?.count ?? 0).toBe(0)
  })
})
