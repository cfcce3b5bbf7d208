/**
 * Observability end to end, with a real `node apps/server` (primary + 2 workers) and real
 * backends: per-peer statistics and /metrics are the same from every worker, a killed and
 * restored backend yields exactly two transition log lines and two SSE events, the access and
 * audit logs carry their fields, and X-Request-Id reaches the peer.
 */
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AdminServer } from './fixtures/admin-server.js'
import { Backend, obsServer, SseClient, traffic, until, writeObsConfig } from './fixtures/obs.js'

type Stats = Record<string, Record<string, { requests: number; inflight: number; responses: Record<string, number> }>>

const backends = [new Backend(), new Backend()]
let srv: AdminServer

beforeAll(async () => {
  for (const b of backends) await b.start()
  srv = obsServer(backends)
  await writeObsConfig(srv)
  await srv.start()
}, 120_000)

afterAll(async () => {
  await srv?.kill()
  for (const b of backends) await b.stop()
})

/** Log lines (JSON) of the server's output with this `msg`. */
function logLines(msg: string): Array<Record<string, unknown>> {
  return srv.output.split('\n').filter((l) => l.startsWith('{')).flatMap((l) => {
    try {
      const o = JSON.parse(l) as Record<string, unknown>
      return o['msg'] === msg ? [o] : []
    } catch {
      return []
    }
  })
}

describe('per-peer statistics', () => {
  it('1000 requests through 2 workers: the peers count exactly 1000, the same from every worker', async () => {
    const statuses = await traffic(srv.proxyPort, 1000)
    expect(statuses.filter((s) => s === 200)).toHaveLength(1000)
    // the heartbeat keeps counting checks: two reads match unless a round lands between them
    const bodies = (await until('two workers with the same /stats', async () => {
      const answers = await srv.eachWorker('GET', '/stats')
      expect([...answers.keys()].sort()).toEqual([0, 1])
      const got = [...answers.values()].map((r) => r.body as Stats)
      return isDeepStrictEqual(got[0], got[1]) ? got : undefined
    }))!
    for (const b of bodies) {
      const peers = Object.values(b['api']!)
      expect(peers).toHaveLength(2)
      expect(peers.reduce((n, p) => n + p.requests, 0)).toBe(1000)
      expect(peers.reduce((n, p) => n + (p.responses['2xx'] ?? 0), 0)).toBe(1000)
      expect(peers.every((p) => p.inflight === 0 && p.requests > 0)).toBe(true)
    }
    expect(bodies[0]).toEqual(bodies[1])
    const one = await srv.get('/upstreams/api/stats')
    expect(one.body).toEqual(bodies[0]!['api'])
    expect((await srv.get('/upstreams/nope/stats')).status).toBe(404)
  }, 60_000)

  it('/metrics is the same from every worker and carries the per-peer families', async () => {
    // process blocks are republished every few seconds: two answers match unless one lands between
    const same = await until('two workers with the same /metrics', async () => {
      const answers = [...(await srv.eachWorker('GET', '/metrics')).values()].map((r) => r.text)
      return answers[0] === answers[1] ? answers[0] : undefined
    })
    const sum = [...same!.matchAll(/^checkups_peer_requests_total\{upstream="api",peer="[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0)
    expect(sum).toBe(1000)
    for (const family of ['checkups_peer_responses_total', 'checkups_peer_response_seconds', 'checkups_peer_up', 'checkups_peer_inflight',
      'checkups_health_transitions_total', 'checkups_heartbeat_round_seconds', 'checkups_peer_ejections_total',
      'checkups_peer_ejected_until_seconds', 'checkups_peer_slow_start_factor', 'checkups_peer_latency_cost_seconds']) {
      expect(same).toContain(`# TYPE ${family} `)
      expect(same.match(new RegExp(`^# TYPE ${family} `, 'gm'))).toHaveLength(1)
    }
    expect(same).toMatch(/^checkups_peer_responses_total\{upstream="api",peer="127\.0\.0\.1:\d+",code_class="2xx"\} \d+$/m)
    for (const w of ['primary', '0', '1']) expect(same).toMatch(new RegExp(`^process_cpu_seconds_total\\{worker="${w}"\\} `, 'm'))
    expect(same.match(/^# TYPE process_cpu_seconds_total /gm)).toHaveLength(1)
  }, 60_000)
})

describe('events and logs', () => {
  it('kill and restore a backend: exactly two transition log lines and two SSE events; Last-Event-ID resumes', async () => {
    const sse = new SseClient()
    await sse.open(srv.adminPort)
    const before = logLines('health transition').length
    const victim = backends[1]!
    const port = victim.port
    await victim.stop()
    await until('a down event', () => sse.events.find((e) => e.event === 'transition' && JSON.parse(e.data).to === 'err'))
    await victim.start(port)
    await until('an up event', () => sse.events.find((e) => e.event === 'transition' && JSON.parse(e.data).to === 'ok'))
    await new Promise((r) => setTimeout(r, 2500)) // two more heartbeat rounds: nothing else may come
    const transitions = sse.events.filter((e) => e.event === 'transition').map((e) => JSON.parse(e.data))
    expect(transitions.map((t) => `${t.upstream} ${t.peer} ${t.from}>${t.to} ${t.cause}`)).toEqual([
      `api 127.0.0.1:${port} ok>err heartbeat`, `api 127.0.0.1:${port} err>ok heartbeat`,
    ])
    const lines = logLines('health transition').slice(before)
    expect(lines.map((l) => `${l['upstream']} ${l['peer']} ${l['from']}>${l['to']} ${l['cause']}`)).toEqual([
      `api 127.0.0.1:${port} ok>err heartbeat`, `api 127.0.0.1:${port} err>ok heartbeat`,
    ])
    sse.close()
    // another worker, resuming after the first event, gets the second only
    const first = sse.events.find((e) => e.event === 'transition')!
    const again = new SseClient()
    await again.open(srv.adminPort, { 'last-event-id': first.id })
    const resumed = await until('the resumed event', () => again.events.find((e) => e.event === 'transition'))
    expect(JSON.parse(resumed.data).to).toBe('ok')
    again.close()
    const stats = (await srv.get('/upstreams/api/stats')).body as Record<string, { transitions: { heartbeat: number }; downtime_ms: number; health: string }>
    expect(stats[`127.0.0.1:${port}`]).toMatchObject({ transitions: { heartbeat: 2 }, health: 'ok' })
    expect(stats[`127.0.0.1:${port}`]!.downtime_ms).toBeGreaterThan(0)
  }, 60_000)

  it('admin writes are audited and published as config events', async () => {
    const sse = new SseClient()
    await sse.open(srv.adminPort)
    const r = await srv.putJson('/upstreams/extra', { cluster: [{ servers: [{ host: '127.0.0.1', port: backends[0]!.port }] }] })
    expect(r.status).toBe(200)
    const version = (r.body as { version: number }).version
    const ev = await until('a config event', () => sse.events.find((e) => e.event === 'config'))
    expect(JSON.parse(ev.data)).toMatchObject({ type: 'config', op: 'update', upstream: 'extra', version })
    sse.close()
    const line = await until('the audit line', () => logLines('admin write').find((l) => l['path'] === '/upstreams/extra'))
    expect(line).toMatchObject({ event: 'admin_write', method: 'PUT', skey: 'extra', version, status: 200, client: '127.0.0.1' })
  }, 30_000)

  it('an operator\'s failure report that opens an err window is an admin transition', async () => {
    const servers = backends.map((b) => ({ host: '127.0.0.1', port: b.port, max_fails: 1, fail_timeout: 30 }))
    expect((await srv.putJson('/upstreams/fed', { cluster: [{ servers }] })).status).toBe(200)
    const sse = new SseClient()
    await sse.open(srv.adminPort)
    const peer = `127.0.0.1:${backends[0]!.port}`
    const r = await srv.send('POST', '/upstreams/fed/feedback', { body: JSON.stringify({ host: '127.0.0.1', port: backends[0]!.port, failed: true }), headers: { 'content-type': 'application/json' } })
    expect(r.status).toBe(200)
    const ev = await until('the admin transition', () => sse.events.find((e) => e.event === 'transition'))
    expect(JSON.parse(ev.data)).toMatchObject({ upstream: 'fed', peer, from: 'ok', to: 'err', cause: 'admin' })
    sse.close()
    const stats = (await srv.get('/upstreams/fed/stats')).body as Record<string, { passive: string; transitions: Record<string, number> }>
    expect(stats[peer]).toMatchObject({ passive: 'err', transitions: { heartbeat: 0, passive: 0, admin: 1 } })
    expect(logLines('health transition').filter((l) => l['upstream'] === 'fed').map((l) => l['cause'])).toEqual(['admin'])
  }, 30_000)

  it('a reload is a config event too, and the ring (with everything before it) outlives the workers', async () => {
    const open = new SseClient()
    await open.open(srv.adminPort)
    srv.signal('SIGHUP')
    // an open stream does not hold its worker's graceful stop (30 s before a kill): it is ended
    await until('the stream ended by the drain', () => open.ended, 15_000)
    await srv.waitOutput('"reload done"', 60_000)
    await srv.waitReady()
    const sse = new SseClient()
    await sse.open(srv.adminPort, {}, '/events?since=0')
    const reload = await until('the reload event', () => sse.events.find((e) => e.event === 'config' && JSON.parse(e.data).op === 'reload'))
    expect(JSON.parse(reload.data)).toMatchObject({ type: 'config', op: 'reload', version: expect.any(Number) })
    // the transitions of the earlier test are still there, numbered as before
    const api = sse.events.filter((e) => e.event === 'transition').map((e) => JSON.parse(e.data)).filter((t) => t.upstream === 'api')
    expect(api.map((t) => t.to)).toEqual(['err', 'ok'])
    sse.close()
  }, 90_000)

  it('the access log has one JSON line per request, and X-Request-Id reaches the peer', async () => {
    await traffic(srv.proxyPort, 1, 1, { 'x-request-id': 'rid-given-1' })
    await traffic(srv.proxyPort, 1, 1)
    const access = await until('two access lines', () => {
      const lines = srv.output.split('\n').filter((l) => l.includes('"request_id"')).map((l) => JSON.parse(l) as Record<string, unknown>)
      const given = lines.find((l) => l['request_id'] === 'rid-given-1')
      return given && lines.length >= 1002 ? { given, last: lines.at(-1)! } : undefined
    })
    expect(access.given).toMatchObject({ client: '127.0.0.1', method: 'GET', status: 200, upstream: 'api', attempts: 1 })
    expect(access.given['peer']).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(access.given['bytes']).toBeGreaterThan(0)
    const generated = String(access.last['request_id'])
    expect(generated).toMatch(/^[0-9a-f-]{36}$/)
    const seen = backends.flatMap((b) => b.ids)
    expect(seen).toContain('rid-given-1')
    expect(seen).toContain(generated)
  }, 30_000)
})
