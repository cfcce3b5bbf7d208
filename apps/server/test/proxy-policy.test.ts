/**
 * Per-route policy against real loopback backends: timeouts overriding the upstream's,
 * next_upstream (kinds, statuses, non_idempotent) bounded by try, max_body_size before any
 * peer is contacted, header set/remove both ways, Location/Refresh rewriting, the worker
 * header on demand.
 */
import { describe, expect, it } from 'vitest'
import { cleanupAfterEach } from './fixtures/cleanup.js'
import { startBackend, type Backend } from './fixtures/backend.js'
import { backendOf, get } from './fixtures/client.js'
import { raw } from './fixtures/raw.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'
import { deadPort } from '../../../test/fixtures/net.js'

const cleanup = cleanupAfterEach()

async function backends(n: number): Promise<Backend[]> {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => startBackend(`p${i + 1}`)))
  for (const b of list) cleanup.push(() => b.close())
  return list
}


/** upstream `api` over `ports` in this order (weights make the first peer the first pick) */
async function proxy(ports: number[], routes: unknown[], server: Record<string, unknown> = {}, ups: Record<string, unknown> = {}): Promise<TestProxy> {
  const weights = ports.map((_, i) => (i === 0 ? 100 : 1))
  const config = {
    global: { default_heartbeat_enable: false },
    api: { timeout: 5, ...ups, cluster: [{ servers: ports.map((port, i) => ({ host: '127.0.0.1', port, weight: weights[i] })) }] },
  }
  const p = await startTestProxy(config, routes, { server })
  cleanup.push(() => p.close())
  return p
}

describe('proxy policy: timeouts and next_upstream', () => {
  it('route timeouts.read overrides the upstream timeout (504 from the route bound)', async () => {
    const [b] = await backends(1)
    const slow = b as Backend
    slow.mode = 'slow'
    slow.delayMs = 1500
    const p = await proxy([slow.port], [{ upstream: 'api', timeouts: { read: 0.2 } }])
    // the upstream's own bound (5 s) is beyond the backend's 1.5 s: a 504 can only be the route's
    const r = await get(`${p.url}/x`)
    expect(r.status).toBe(504)
    expect(r.text).toContain('read timeout')
  })

  it('a status listed as http_502 sends the request to the next peer; unlisted, it is relayed', async () => {
    const [bad, good] = await backends(2)
    ;(bad as Backend).mode = 'status'
    ;(bad as Backend).status = 502
    const listed = await proxy([(bad as Backend).port, (good as Backend).port], [{ upstream: 'api', next_upstream: ['error', 'timeout', 'http_502'] }])
    const r1 = await get(`${listed.url}/x`)
    expect(r1.status).toBe(200)
    expect(backendOf(r1)).toBe('p2')
    const plain = await proxy([(bad as Backend).port, (good as Backend).port], [{ upstream: 'api' }])
    const r2 = await get(`${plain.url}/x`)
    expect(r2.status).toBe(502)
    expect(backendOf(r2)).toBe('p1')
  })

  it('the last peer answering a listed status is relayed as is', async () => {
    const [bad] = await backends(1)
    ;(bad as Backend).mode = 'status'
    ;(bad as Backend).status = 503
    const p = await proxy([(bad as Backend).port], [{ upstream: 'api', next_upstream: ['http_503'] }])
    const r = await get(`${p.url}/x`)
    expect(r.status).toBe(503)
    expect(backendOf(r)).toBe('p1')
  })

  it("next_upstream without 'error': a refused connect is not retried (502); with it, the next peer answers", async () => {
    const [good] = await backends(1)
    const dead = await deadPort()
    const off = await proxy([dead, (good as Backend).port], [{ upstream: 'api', next_upstream: ['off'] }])
    expect((await get(`${off.url}/x`)).status).toBe(502)
    expect((good as Backend).hits).toBe(0)
    const on = await proxy([dead, (good as Backend).port], [{ upstream: 'api' }])
    expect((await get(`${on.url}/x`)).status).toBe(200)
  })

  it('route try: 1 bounds the call to one peer', async () => {
    const [good] = await backends(1)
    const dead = await deadPort()
    const p = await proxy([dead, (good as Backend).port], [{ upstream: 'api', try: 1 }])
    expect((await get(`${p.url}/x`)).status).toBe(502)
    expect((good as Backend).hits).toBe(0)
  })

  it('non_idempotent: a POST that reached a resetting peer is replayed only when listed', async () => {
    const [reset, good] = await backends(2)
    ;(reset as Backend).mode = 'reset'
    const plain = await proxy([(reset as Backend).port, (good as Backend).port], [{ upstream: 'api' }])
    const r1 = await get(`${plain.url}/x`, {}, 'POST')
    expect(r1.status).toBe(502)
    expect(r1.text).toContain('not replayable')
    const listed = await proxy([(reset as Backend).port, (good as Backend).port], [{ upstream: 'api', next_upstream: ['error', 'timeout', 'non_idempotent'] }])
    const r2 = await get(`${listed.url}/x`, {}, 'POST')
    expect(r2.status).toBe(200)
    expect(backendOf(r2)).toBe('p2')
  })
})

describe('proxy policy: bodies, headers, redirects', () => {
  it('max_body_size: 413 and no peer contacted; at the limit the body passes', async () => {
    const [b] = await backends(1)
    const p = await proxy([(b as Backend).port], [{ upstream: 'api', max_body_size: 100 }])
    const big = await get(`${p.url}/echo-count`, {}, 'POST', 'x'.repeat(101))
    expect(big.status).toBe(413)
    expect((b as Backend).hits).toBe(0)
    const ok = await get(`${p.url}/echo-count`, {}, 'POST', 'x'.repeat(100))
    expect(JSON.parse(ok.text).received).toBe(100)
  })

  it('the server-wide max_body_size applies to routes without their own', async () => {
    const [b] = await backends(1)
    const p = await proxy([(b as Backend).port], [{ upstream: 'api' }], { max_body_size: 10 })
    expect((await get(`${p.url}/echo-count`, {}, 'POST', 'x'.repeat(11))).status).toBe(413)
  })

  it('request and response headers: set replaces, remove drops', async () => {
    const [b] = await backends(1)
    const p = await proxy([(b as Backend).port], [
      { upstream: 'api', request_headers: { set: { 'X-Env': 'prod' }, remove: ['x-secret'] }, response_headers: { set: { 'X-Served-By': 'edge' }, remove: ['content-type'] } },
    ])
    const r = await get(`${p.url}/headers`, { 'x-env': 'client', 'x-secret': 's', 'x-keep': 'k' })
    const seen = JSON.parse(r.text).headers as Record<string, string>
    expect(seen['x-env']).toBe('prod')
    expect(seen['x-secret']).toBeUndefined()
    expect(seen['x-keep']).toBe('k')
    expect(r.headers['x-served-by']).toBe('edge')
    expect(r.headers['content-type']).toBeUndefined()
  })

  it('Location and Refresh naming the peer are rewritten to the client origin (prefix restored); redirect: false keeps them', async () => {
    const [b] = await backends(1)
    const port = (b as Backend).port
    const p = await proxy([port], [{ path_prefix: '/app', upstream: 'api', strip_prefix: true }, { path_prefix: '/raw', upstream: 'api', strip_prefix: true, redirect: false }])
    const r = await get(`${p.url}/app/redirect`, { host: 'shop.test:8443' })
    expect(r.status).toBe(302)
    expect(r.headers['location']).toBe('http://shop.test:8443/app/landing')
    expect(r.headers['refresh']).toBe('0; url=http://shop.test:8443/app/landing')
    const kept = await get(`${p.url}/raw/redirect`, { host: 'shop.test' })
    expect(kept.headers['location']).toBe(`http://127.0.0.1:${port}/landing`)
  })

  it('x-checkups-worker only with worker_header: true', async () => {
    const [b] = await backends(1)
    const off = await proxy([(b as Backend).port], [{ upstream: 'api' }])
    expect((await get(`${off.url}/x`)).headers['x-checkups-worker']).toBeUndefined()
    const on = await proxy([(b as Backend).port], [{ upstream: 'api' }], { worker_header: true })
    expect((await get(`${on.url}/x`)).headers['x-checkups-worker']).toBe('0')
  })

  it.each([
    [{ upstream: 'api', timeouts: { read: 0 } }, 'server.routes[0].timeouts.read: must be a number > 0'],
    [{ upstream: 'api', next_upstream: ['http_418'] }, 'server.routes[0].next_upstream[0]: must be among'],
    [{ upstream: 'api', request_headers: { set: { 'Content-Length': '1' } } }, 'message-framing header'],
    [{ upstream: 'api', bogus: 1 }, 'server.routes[0]'],
  ])('invalid route %j is refused with a dotted path', async (route, msg) => {
    const [b] = await backends(1)
    await expect(proxy([(b as Backend).port], [route])).rejects.toThrow(msg)
  })

  it('raw duplicate Content-Length is refused by the listener, nothing forwarded', async () => {
    const [b] = await backends(1)
    const p = await proxy([(b as Backend).port], [{ upstream: 'api' }])
    const r = await raw(p.port, ['POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'])
    expect(r.status).toBe(400)
    expect((b as Backend).hits).toBe(0)
  })
})
