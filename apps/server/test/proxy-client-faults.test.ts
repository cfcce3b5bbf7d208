/**
 * Requests the proxy cannot or must not forward because of the client: each gets its 4xx (or
 * nothing, when the client is gone) and none counts against a peer — with max_fails 1, one
 * counted failure would mark a peer down. Also: path normalisation and segment-boundary
 * prefixes, hop-by-hop protection, TRACE, too many headers. Real loopback backends and a real
 * Checkups instance.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from './fixtures/backend.js'
import { backendOf, get, many } from './fixtures/client.js'
import { raw } from './fixtures/raw.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'
import type { AttemptReport } from '@checkups/core'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

async function setup(routes: unknown[], server: Record<string, unknown> = {}, reports?: AttemptReport[]): Promise<{ p: TestProxy; bs: Backend[] }> {
  const bs = await Promise.all(['c1', 'c2', 'c3'].map((n) => startBackend(n)))
  for (const b of bs) cleanup.push(() => b.close())
  const config = {
    global: { default_heartbeat_enable: false },
    api: { timeout: 2, cluster: [{ servers: servers(bs.map((b) => b.port), { max_fails: 1, fail_timeout: 30 }) }] },
  }
  const p = await startTestProxy(config, routes, reports ? { server, reports } : { server })
  cleanup.push(() => p.close())
  return { p, bs }
}

/** passive failure counts of every peer of `api` */
function passiveCounts(p: TestProxy): number[] {
  const st = p.checkups.getStatus() as unknown as Record<string, Array<Array<{ passive?: { count: number } }>>>
  return (st['cls:api'] ?? []).flat().map((peer) => peer.passive?.count ?? 0)
}

const H = 'Host: shop.test\r\n'

/** hostile request variants and the status each must get (0: the client left, no answer expected) */
const VARIANTS: Array<[string, (port: number) => Promise<number>, number]> = [
  ['two Host headers', (port) => raw(port, [`GET /x HTTP/1.1\r\n${H}Host: other.test\r\n\r\n`]).then((r) => r.status), 400],
  ['body cut off (Content-Length 1000, 10 sent, then gone)', (port) => raw(port, [`POST /echo-count HTTP/1.1\r\n${H}Content-Length: 1000\r\n\r\n0123456789`], { abortAfterMs: 20 }).then(() => 0), 0],
  ['chunked body cut off', (port) => raw(port, [`PUT /echo-count HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`], { abortAfterMs: 20 }).then(() => 0), 0],
  ['malformed chunk size mid-body', (port) => raw(port, [`PUT /echo-count HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, 'zz\r\nxx\r\n'], { gapMs: 20 }).then((r) => r.status), -1],
  ['Content-Length above max_body_size', (port) => raw(port, [`POST /echo-count HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n`]).then((r) => r.status), 413],
  ['chunked body above max_body_size', (port) => raw(port, [`POST /echo-count HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, `1000\r\n${'x'.repeat(4096)}\r\n`, '0\r\n\r\n'], { gapMs: 5 }).then((r) => r.status), 413],
  ['dot segment behind an encoded slash', (port) => raw(port, [`GET /x/..%2fsecret HTTP/1.1\r\n${H}\r\n`]).then((r) => r.status), 400],
  ['TRACE', (port) => raw(port, [`TRACE /x HTTP/1.1\r\n${H}\r\n`]).then((r) => r.status), 405],
  ['too many header fields', (port) => raw(port, [`GET /x HTTP/1.1\r\n${H}${'a: b\r\n'.repeat(150)}\r\n`]).then((r) => r.status), 431],
  ['client gone while the peer thinks', (port) => raw(port, [`GET /slow HTTP/1.1\r\n${H}\r\n`], { abortAfterMs: 5 }).then(() => 0), 0],
]

describe('proxy: client faults never count against a peer', () => {
  it.each(VARIANTS)('%s', async (_name, send, status) => {
    const { p } = await setup([{ upstream: 'api', max_body_size: 2048 }])
    const got = await send(p.port)
    if (status === -1) expect([0, 400]).toContain(got)
    else if (status !== 0) expect(got).toBe(status)
    await new Promise((r) => setTimeout(r, 50))
    expect(passiveCounts(p)).toEqual([0, 0, 0])
  })

  it.each([
    ['body cut off', (port: number) => raw(port, [`POST /echo-count HTTP/1.1\r\n${H}Content-Length: 1000\r\n\r\n0123456789`], { abortAfterMs: 20 })],
    ['chunked body above max_body_size', (port: number) => raw(port, [`POST /echo-count HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, `1000\r\n${'x'.repeat(4096)}\r\n`, '0\r\n\r\n'], { gapMs: 5 })],
  ] as const)('%s: the attempt is reported as client_abort, nothing else', async (_n, send) => {
    const reports: AttemptReport[] = []
    const { p } = await setup([{ upstream: 'api', max_body_size: 2048 }], {}, reports)
    await send(p.port)
    for (let i = 0; i < 50 && reports.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(reports.map((r) => r.outcome)).toEqual(['client_abort'])
  })

  it('control: a peer that resets IS counted (the counts above are live)', async () => {
    const { p, bs } = await setup([{ upstream: 'api' }])
    for (const b of bs) b.mode = 'reset'
    expect((await get(`${p.url}/x`)).status).toBe(502)
    expect(passiveCounts(p).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  })

  it('1 000 hostile requests (every variant) → no peer counted failed, every backend still serves', async () => {
    const { p, bs } = await setup([{ upstream: 'api', max_body_size: 2048 }])
    for (const b of bs) b.mode = 'slow'
    for (const b of bs) b.delayMs = 30
    const got = await many(1000, 25, (i) => (VARIANTS[i % VARIANTS.length] as (typeof VARIANTS)[number])[1](p.port))
    expect(got.filter((s) => ![0, 400, 405, 413, 431].includes(s))).toEqual([])
    await new Promise((r) => setTimeout(r, 100))
    expect(passiveCounts(p)).toEqual([0, 0, 0])
    for (const b of bs) b.mode = 'ok'
    const replies = await many(60, 6, () => get(`${p.url}/after`))
    expect(replies.filter((r) => r.status !== 200)).toEqual([])
    expect(new Set(replies.map(backendOf))).toEqual(new Set(['c1', 'c2', 'c3']))
  })
})

describe('proxy: path normalisation and prefixes', () => {
  const routes = [{ path_prefix: '/public', upstream: 'api' }]
  it.each([
    ['/public/../secret', 404, null],
    ['/public/%2e%2e/secret', 404, null],
    ['/public/%2E%2e/secret', 404, null],
    ['/public/..%2fsecret', 400, null],
    ['/public/..%5csecret', 400, null],
    ['/public/..\\secret', 400, null],
    ['/public/..;x/secret', 400, null],
    ['/publicsecret', 404, null],
    ['/public/../../etc', 400, null],
    ['/public/%zz', 400, null],
    ['/public/a%00b', 400, null],
    ['/public', 200, '/public'],
    ['/public/', 200, '/public/'],
    ['/public/a/./b/../c?q=/../x', 200, '/public/a/c?q=/../x'],
    ['/public//a//b', 200, '/public/a/b'],
    ['/public/a/%2e/b', 200, '/public/a/b'],
    ['/x/../public/ok', 200, '/public/ok'],
    ['/public/a%2Fb', 200, '/public/a%2Fb'],
    ['/public/file.tar.gz', 200, '/public/file.tar.gz'],
  ] as const)('%s → %i', async (path, status, seen) => {
    const { p } = await setup(routes)
    const r = await raw(p.port, [`GET ${path} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n`])
    expect(r.status).toBe(status)
    if (seen !== null) expect(JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)).url).toBe(seen)
  })

  it('strip_prefix strips on the normalised path', async () => {
    const { p } = await setup([{ path_prefix: '/api/', upstream: 'api', strip_prefix: true }])
    const r = await get(`${p.url}/api/%2e/v1/../users?x=1`)
    expect(JSON.parse(r.text).url).toBe('/users?x=1')
  })
})

describe('proxy: hop-by-hop and methods', () => {
  it('Connection cannot strip Host, Content-Length, Transfer-Encoding or X-Forwarded-*', async () => {
    const { p } = await setup([{ upstream: 'api' }])
    const r = await raw(p.port, [
      'POST /headers HTTP/1.1\r\nHost: shop.test\r\nConnection: host, content-length, transfer-encoding, x-forwarded-for, x-forwarded-proto, x-forwarded-host, x-drop\r\n' +
        'X-Forwarded-For: 10.0.0.1\r\nX-Drop: 1\r\nContent-Length: 2\r\n\r\nhi',
    ])
    expect(r.status).toBe(200)
    const seen = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)).headers as Record<string, string>
    expect(seen['host']).toBe('shop.test')
    expect(seen['content-length']).toBe('2')
    expect(seen['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1')
    expect(seen['x-forwarded-proto']).toBe('http')
    expect(seen['x-forwarded-host']).toBe('shop.test')
    expect(seen['x-drop']).toBeUndefined()
  })

  it('TRACE is forwarded when the route allows it', async () => {
    const { p, bs } = await setup([{ path_prefix: '/t', upstream: 'api', allow_trace: true }, { upstream: 'api' }])
    expect((await raw(p.port, [`TRACE /t/x HTTP/1.1\r\n${H}\r\n`])).status).toBe(200)
    const before = bs.reduce((n, b) => n + b.hits, 0)
    expect((await raw(p.port, [`TRACE /x HTTP/1.1\r\n${H}\r\n`])).status).toBe(405)
    expect(bs.reduce((n, b) => n + b.hits, 0)).toBe(before)
  })

  it('max_headers fields pass, one more → 431', async () => {
    const { p } = await setup([{ upstream: 'api' }], { max_headers: 20 })
    const ok = await raw(p.port, [`GET /x HTTP/1.1\r\n${H}${'a: b\r\n'.repeat(19)}\r\n`])
    expect(ok.status).toBe(200)
    const over = await raw(p.port, [`GET /x HTTP/1.1\r\n${H}${'a: b\r\n'.repeat(20)}\r\n`])
    expect(over.status).toBe(431)
  })
})
