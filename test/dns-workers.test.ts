// DNS hostnames across workers: a real `node apps/server` with 2 workers proxies to an
// upstream whose one server is `api.internal`, answered by a DNS server on loopback started
// here (global.dns.resolver) with 127.0.0.2 and 127.0.0.3, real backends on both. Both
// addresses get traffic from both workers; changed records reach every worker; a dead DNS
// server leaves every worker on the last addresses, shown stale in /status and /metrics; a
// killed leader's successor carries on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, request, sleep } from './fixtures/admin-server.js'
import { type TestDns, type Twin, testDns, twins } from './fixtures/dns-server.js'

let dns: TestDns
let web: Twin
let server: AdminServer

interface DnsRow { addresses: string[]; stale: boolean; age: number | null; failures: number }

/** Until every worker's /status shows `name` as `pred` wants it (bounded). */
async function everyWorker(name: string, pred: (d: DnsRow | undefined) => boolean): Promise<Map<number, DnsRow | undefined>> {
  let last = new Map<number, DnsRow | undefined>()
  for (let i = 0; i < 200; i++) {
    last = new Map([...(await server.eachWorker('GET', '/status'))].map(([id, r]) => [id, (r.body as { dns?: Record<string, DnsRow> }).dns?.[name]]))
    if ([...last.values()].every(pred)) return last
    await sleep(50)
  }
  throw new Error(`workers never agreed on ${name}: ${JSON.stringify([...last])}`)
}

/** Proxy requests on new connections until each worker answered `want` distinct bodies (bounded). */
async function traffic(want: number): Promise<Map<number, Set<string>>> {
  const seen = new Map<number, Set<string>>()
  for (let i = 0; i < 400; i++) {
    const r = await request(server.proxyPort, 'GET', '/')
    expect(r.status).toBe(200)
    if (!seen.has(r.worker)) seen.set(r.worker, new Set())
    seen.get(r.worker)!.add(r.text)
    if (seen.size === 2 && [...seen.values()].every((s) => s.size >= want) && i >= 20) break
  }
  return seen
}

beforeAll(async () => {
  dns = await testDns()
  web = await twins(['127.0.0.2', '127.0.0.3', '127.0.0.4'])
  dns.set('api.internal', ['127.0.0.2', '127.0.0.3'], 1)
  server = new AdminServer({
    workers: 2,
    global: { dns: { resolver: dns.resolver, min_ttl: 0.2, max_ttl: 2 } },
    upstreams: { api: { cluster: [{ servers: [{ host: 'api.internal', port: web.port }] }] } },
    server: { worker_header: true, routes: [{ path_prefix: '/', upstream: 'api' }] },
  })
  await server.start()
}, 120_000)

afterAll(async () => {
  await server?.dispose()
  await dns?.stop()
  await web?.close()
})

describe('DNS hostnames, 2 workers', () => {
  it('both addresses get traffic from both workers', async () => {
    await everyWorker('api.internal', (d) => d?.addresses.join() === '127.0.0.2,127.0.0.3')
    const seen = await traffic(2)
    expect([...seen.keys()].sort()).toEqual([0, 1])
    for (const bodies of seen.values()) expect([...bodies].sort()).toEqual(['127.0.0.2', '127.0.0.3'])
  })

  it('changed records: the leader re-resolves and every worker switches', async () => {
    dns.set('api.internal', ['127.0.0.4'], 1)
    await everyWorker('api.internal', (d) => d?.addresses.join() === '127.0.0.4')
    const seen = await traffic(1)
    for (const bodies of seen.values()) expect([...bodies]).toEqual(['127.0.0.4'])
  })

  it('a dead DNS server: every worker keeps the last addresses, status and metrics show stale', async () => {
    await dns.stop()
    try {
      const rows = await everyWorker('api.internal', (d) => d?.stale === true)
      for (const d of rows.values()) expect(d).toMatchObject({ addresses: ['127.0.0.4'], stale: true })
      const seen = await traffic(1)
      for (const bodies of seen.values()) expect([...bodies]).toEqual(['127.0.0.4'])
      const m = (await server.get('/metrics')).text
      expect(m).toContain('checkups_dns_stale{name="api.internal"} 1')
      expect(m).toContain('checkups_dns_addresses{name="api.internal"} 1')
      expect(m).toMatch(/checkups_dns_lookup_failures_total\{name="api.internal"\} [1-9]/)
      const st = (await server.get('/status')).body as Record<string, Array<Array<{ server: string; dns?: DnsRow }>>>
      expect(st['cls:api']![0]!.map((p) => [p.server, p.dns?.stale])).toEqual([[`api:127.0.0.4:${web.port}`, true]])
    } finally {
      await dns.start()
    }
    await everyWorker('api.internal', (d) => d?.stale === false)
  })

  it('PUT /upstreams/:skey takes a hostname; every worker resolves it', async () => {
    dns.set('late.internal', ['127.0.0.3'], 1)
    const put = await server.putJson('/upstreams/late', { cluster: [{ servers: [{ host: 'late.internal', port: web.port }] }] })
    expect(put.status).toBeLessThan(300)
    await everyWorker('late.internal', (d) => d?.addresses.join() === '127.0.0.3')
    const bad = await server.putJson('/upstreams/bad', { cluster: [{ servers: [{ host: 'late-.internal', port: web.port }] }] })
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('RFC 1123')
  })

  it('the leader killed: the next leader continues the lookups and every worker follows', async () => {
    const lead = ((await server.get('/status')).body as { heartbeat_leader?: { pid: number } }).heartbeat_leader
    expect(lead?.pid).toBeGreaterThan(0)
    process.kill(lead!.pid, 'SIGKILL')
    dns.set('api.internal', ['127.0.0.2'], 1)
    await server.waitReady()
    await everyWorker('api.internal', (d) => d?.addresses.join() === '127.0.0.2' && d.stale === false)
    const next = ((await server.get('/status')).body as { heartbeat_leader?: { pid: number } }).heartbeat_leader
    expect(next?.pid).not.toBe(lead!.pid)
    const seen = await traffic(1)
    for (const bodies of seen.values()) expect([...bodies]).toEqual(['127.0.0.2'])
  })
})
