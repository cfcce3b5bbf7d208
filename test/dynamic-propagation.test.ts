// Dynamic upstreams through the admin API on every worker: a change made through
// one worker is what every worker answers right after the PUT; DELETE is 404 everywhere; a
// respawned worker and a restarted primary (after kill -9) start from the current config.
// Real `node apps/server` with 4 workers, real backends, real HTTP; nothing mocked.
import { existsSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, sleep, startBackends } from './fixtures/admin-server.js'

const TOKEN = 's3cret-token'
let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer

const servers = (ports: number[]) => ports.map((port) => ({ host: '127.0.0.1', port }))
const portsOf = (ups: unknown): number[] =>
  ((ups as { cluster: Array<{ servers: Array<{ port: number }> }> }).cluster[0]?.servers ?? []).map((s) => s.port)

beforeAll(async () => {
  backends = await startBackends(4)
  const [a, b] = backends.ports
  server = new AdminServer({
    workers: 4,
    token: TOKEN,
    upstreams: { api: { timeout: 2, cluster: [{ servers: servers([a!, b!]) }] } },
  })
  await server.start()
})

afterAll(async () => {
  await server?.dispose()
  await backends?.close()
})

describe('admin API on every worker', () => {
  it('answers GET /upstreams with the config on all 4 workers, each response tagged', async () => {
    const replies = await server.eachWorker('GET', '/upstreams')
    expect([...replies.keys()].sort()).toEqual([0, 1, 2, 3])
    for (const r of replies.values()) {
      expect(r.status).toBe(200)
      expect(Object.keys(r.body as object)).toEqual(['api'])
      expect(portsOf((r.body as Record<string, unknown>)['api'])).toEqual(backends.ports.slice(0, 2))
    }
  })

  it('PUT through one worker: every worker answers with the new servers right away', async () => {
    const [, , c, d] = backends.ports
    const put = await server.putJson('/upstreams/dyn', { cluster: [{ servers: servers([c!, d!]) }] })
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({ ok: true })
    const version = (put.body as { version: number }).version
    expect(version).toBeGreaterThan(0)

    const got = await server.eachWorker('GET', '/upstreams/dyn')
    for (const r of got.values()) {
      expect(r.status).toBe(200)
      expect(portsOf(r.body)).toEqual([c, d])
    }
    const peers = await server.eachWorker('GET', '/upstreams/dyn/peer')
    for (const r of peers.values()) {
      expect(r.status).toBe(200)
      expect(r.body).toEqual({ host: '127.0.0.1', port: expect.any(Number) })
      expect([c, d]).toContain((r.body as { port: number }).port)
    }
    const statuses = await server.eachWorker('GET', '/status')
    for (const r of statuses.values()) {
      expect((r.body as { shd_config_version: number }).shd_config_version).toBeGreaterThanOrEqual(version)
    }
  })

  it('a cluster alone is merged into the stored upstream (keeps timeout), visible everywhere', async () => {
    const [a, , c] = backends.ports
    const put = await server.putJson('/upstreams/api', [{ servers: servers([c!, a!]) }])
    expect(put.status).toBe(200)
    for (const r of (await server.eachWorker('GET', '/upstreams/api')).values()) {
      expect(portsOf(r.body)).toEqual([c, a])
      expect((r.body as { timeout: number }).timeout).toBe(2)
    }
    for (const r of (await server.eachWorker('GET', '/upstreams/api/timeout')).values()) {
      expect(r.status).toBe(200)
      expect(r.body).toEqual({ connect: 2, send: 2, read: 2 })
    }
  })

  it('hash_key selects the same peer on every worker; cluster_key picks the level', async () => {
    const [a, b, c] = backends.ports
    const put = await server.putJson('/upstreams/hashed', {
      mode: 'hash',
      cluster: { c1: { servers: servers([a!, b!]) }, c2: { servers: servers([c!]) } },
    })
    expect(put.status).toBe(200)
    const picks = await server.eachWorker('GET', '/upstreams/hashed/peer?hash_key=user-42')
    expect(new Set([...picks.values()].map((r) => (r.body as { port: number }).port)).size).toBe(1)
    for (const r of (await server.eachWorker('GET', '/upstreams/hashed/peer?cluster_key=c2,c1')).values()) {
      expect(r.body).toEqual({ host: '127.0.0.1', port: c })
    }
  })

  it('feedback is accepted for a known peer and 404 for an unknown one', async () => {
    const [c] = backends.ports.slice(2)
    const okr = await server.send('POST', '/upstreams/dyn/feedback', {
      body: JSON.stringify({ host: '127.0.0.1', port: c, failed: false }),
      headers: { 'content-type': 'application/json' },
    })
    expect(okr.status).toBe(200)
    const unknown = await server.send('POST', '/upstreams/dyn/feedback', {
      body: JSON.stringify({ host: '127.0.0.9', port: 1, failed: true }),
      headers: { 'content-type': 'application/json' },
    })
    expect(unknown.status).toBe(404)
    expect((unknown.body as { error: { code: string } }).error.code).toBe('CKP_ERR_UNKNOWN_PEER')
  })

  it('GET /metrics is Prometheus text with the checkups gauges', async () => {
    // per-process counters are published by each worker every second: wait for this one's
    let r = await server.get('/metrics')
    for (let i = 0; i < 100 && !/route="\/upstreams\/:skey"/.test(r.text); i++) {
      await new Promise((ok) => setTimeout(ok, 50))
      r = await server.get('/metrics')
    }
    expect(r.status).toBe(200)
    expect(String(r.headers['content-type'])).toContain('text/plain')
    expect(r.text).toMatch(/^checkups_config_version \d+$/m)
    expect(r.text).toMatch(/^checkups_upstream_peers\{skey="dyn",status="[a-z]+"\} \d+$/m)
    expect(r.text).toMatch(/^checkups_heartbeat_last_check_timestamp [\d.e+]+$/m)
    expect(r.text).toMatch(/^checkups_admin_requests_total\{.*route="\/upstreams\/:skey".*\} \d+$/m)
  })

  it('DELETE through one worker: 404 on every worker', async () => {
    const del = await server.send('DELETE', '/upstreams/hashed')
    expect(del.status).toBe(200)
    expect(del.body).toMatchObject({ ok: true, version: expect.any(Number) })
    for (const r of (await server.eachWorker('GET', '/upstreams/hashed')).values()) {
      expect(r.status).toBe(404)
      expect(r.body).toEqual({ error: { code: 'CKP_ERR_UPSTREAM_NOT_FOUND', message: 'upstream hashed not found' } })
    }
    for (const r of (await server.eachWorker('GET', '/upstreams/hashed/peer')).values()) {
      expect(r.status).toBe(404)
      expect((r.body as { error: { code: string } }).error.code).toBe('CKP_ERR_UNKNOWN_SKEY')
    }
    const again = await server.send('DELETE', '/upstreams/hashed')
    expect(again.status).toBe(404)
  })

  it('a worker killed with SIGKILL is respawned with its id and sees the current config', async () => {
    const before = await server.workerTable()
    const victim = before.find((w) => w.id === 2)!
    process.kill(victim.pid, 'SIGKILL')
    let respawned: { id: number; pid: number; restarts: number } | undefined
    for (let i = 0; i < 400 && !respawned; i++) {
      await sleep(25)
      const rows = await server.workerTable().catch(() => [])
      const row = rows.find((w) => w.id === 2 && w.pid !== victim.pid && (w.state ?? 'ready') === 'ready')
      if (row) respawned = row
    }
    expect(respawned).toBeDefined()
    server.trackPid(respawned!.pid)
    expect(respawned!.restarts).toBe(victim.restarts + 1)
    const [c, d] = backends.ports.slice(2)
    const got = await server.eachWorker('GET', '/upstreams/dyn')
    expect(portsOf(got.get(2)!.body)).toEqual([c, d])
    expect((await server.eachWorker('GET', '/upstreams/hashed')).get(2)!.status).toBe(404)
  }, 120_000)

  it('kill -9 of the primary and its workers, restart: the dynamic upstream is still there', async () => {
    const [c, d] = backends.ports.slice(2)
    const before = (await server.get('/upstreams')).body
    expect(existsSync(server.stateFile)).toBe(true)
    const state = JSON.parse(readFileSync(server.stateFile, 'utf8')) as { format: number; upstreams: object }
    expect(state.format).toBe(1)
    expect(Object.keys(state.upstreams).sort()).toEqual(['api', 'dyn'])

    await server.kill()
    await server.start()
    expect(server.output).toContain('dynamic upstreams restored from state file')
    const got = await server.eachWorker('GET', '/upstreams/dyn')
    for (const r of got.values()) {
      expect(r.status).toBe(200)
      expect(portsOf(r.body)).toEqual([c, d])
    }
    for (const r of (await server.eachWorker('GET', '/upstreams/hashed')).values()) expect(r.status).toBe(404)
    expect((await server.get('/upstreams')).body).toEqual(before)
  }, 180_000)
})
