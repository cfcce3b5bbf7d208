/**
 * The reverse proxy against real loopback backends, through a real Checkups instance
 * (plain-SAB zones in this process): balancing, failover, statuses, timeouts, error mapping.
 */
import { describe, expect, it } from 'vitest'
import { cleanupAfterEach } from './fixtures/cleanup.js'
import { startBackend, type Backend } from './fixtures/backend.js'
import { backendOf, get, many } from './fixtures/client.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'
import { deadPort } from '../../../test/fixtures/net.js'

const cleanup = cleanupAfterEach()

async function backends(n: number): Promise<Backend[]> {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => startBackend(`b${i + 1}`)))
  for (const b of list) cleanup.push(() => b.close())
  return list
}

async function proxy(config: Record<string, unknown>, routes: unknown[], opts: { heartbeat?: boolean } = {}): Promise<TestProxy> {
  const p = await startTestProxy(config, routes, opts)
  cleanup.push(() => p.close())
  return p
}


const noHb = { default_heartbeat_enable: false }

describe('proxy: balancing', () => {
  it('shares 600 requests over weights 1:2:3 within ±5 %', async () => {
    const bs = await backends(3)
    const weights = [1, 2, 3]
    const p = await proxy(
      { global: noHb, api: { cluster: [{ servers: bs.map((b, i) => ({ host: '127.0.0.1', port: b.port, weight: weights[i] })) }] } },
      [{ upstream: 'api' }],
    )
    const replies = await many(600, 8, () => get(`${p.url}/x`))
    expect(replies.every((r) => r.status === 200)).toBe(true)
    const counts = new Map<string, number>()
    for (const r of replies) counts.set(backendOf(r) ?? '?', (counts.get(backendOf(r) ?? '?') ?? 0) + 1)
    bs.forEach((b, i) => {
      const share = (counts.get(b.name) ?? 0) / 600
      expect(Math.abs(share - (weights[i] as number) / 6)).toBeLessThanOrEqual(0.05)
    })
  })

  it.each([
    ['url_hash', {}, (i: number) => `/item/${i % 7}`],
    ['header_hash', { 'x-hash-key': 'k' }, (i: number) => `/any/${i}`],
  ] as const)('%s sends one key to one peer', async (mode, headers, path) => {
    const bs = await backends(3)
    const p = await proxy({ global: noHb, api: { mode, cluster: [{ servers: servers(bs.map((b) => b.port)) }] } }, [{ upstream: 'api' }])
    const seen = new Map<string, Set<string>>()
    for (let i = 0; i < 42; i++) {
      const key = mode === 'url_hash' ? path(i) : 'k'
      const r = await get(`${p.url}${path(i)}`, headers)
      expect(r.status).toBe(200)
      if (!seen.has(key)) seen.set(key, new Set())
      seen.get(key)?.add(backendOf(r) ?? '?')
    }
    for (const peers of seen.values()) expect(peers.size).toBe(1)
  })
})

describe('proxy: failures', () => {
  it('kill one of 3 backends during 2 000 GETs: no client-visible error; passive accounting and heartbeat mark it', async () => {
    const bs = await backends(3)
    const victim = bs[1] as Backend
    const p = await proxy(
      {
        global: { checkup_timer_interval: 1, default_heartbeat_enable: true },
        api: { typ: 'general', timeout: 2, cluster: [{ servers: servers(bs.map((b) => b.port), { max_fails: 2, fail_timeout: 60 }) }] },
      },
      [{ upstream: 'api' }],
      { heartbeat: true },
    )
    let done = 0
    let killed: Promise<void> | undefined
    const replies = await many(2000, 16, async () => {
      const r = await get(`${p.url}/k`)
      if (++done === 500) killed = victim.close()
      return r
    })
    await killed
    expect(replies.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`)).toEqual([])
    const after = replies.slice(1000).map(backendOf)
    expect(after).not.toContain(victim.name)
    const peer = (): Record<string, unknown> => {
      const st = p.checkups.getStatus() as unknown as Record<string, Array<Array<Record<string, unknown>>>>
      return st['cls:api']?.[0]?.find((x) => x['server'] === `api:127.0.0.1:${victim.port}`) ?? {}
    }
    expect(peer()['passive']).toMatchObject({ status: 'err' })
    // the heartbeat's next round (1 s period) marks it too
    for (let i = 0; i < 100 && peer()['status'] !== 'err'; i++) await new Promise((r) => setTimeout(r, 100))
    expect(peer()['status']).toBe('err')
  })

  it('a status listed false in http_opts.statuses makes the next peer answer', async () => {
    const [bad, good] = await backends(2)
    if (!bad || !good) throw new Error('backends')
    bad.mode = 'status'
    bad.status = 500
    const p = await proxy(
      { global: noHb, api: { typ: 'http', http_opts: { statuses: { '500': false } }, cluster: [{ servers: servers([bad.port, good.port]) }] } },
      [{ upstream: 'api' }],
    )
    const replies = await many(20, 4, () => get(`${p.url}/s`))
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect(replies.map(backendOf)).toEqual(Array(20).fill('b2'))
    expect(bad.hits).toBeGreaterThan(0)
  })

  it('when every peer answers a status listed false, the last answer is relayed (as nginx)', async () => {
    const bs = await backends(2)
    for (const b of bs) Object.assign(b, { mode: 'status', status: 503 })
    const p = await proxy(
      { global: noHb, api: { typ: 'http', http_opts: { statuses: { '503': false } }, cluster: [{ servers: servers(bs.map((b) => b.port)) }] } },
      [{ upstream: 'api' }],
    )
    const r = await get(`${p.url}/s`)
    expect(r.status).toBe(503)
    expect(JSON.parse(r.text)).toMatchObject({ status: 503 })
    expect(bs.map((b) => b.hits)).toEqual([1, 1])
  })

  it('a backend slower than its read timeout → 504 naming the timeout', async () => {
    const [slow] = await backends(1)
    if (!slow) throw new Error('backend')
    slow.mode = 'hang'
    const p = await proxy({ global: noHb, api: { timeout: 2, read_timeout: 0.3, cluster: [{ servers: servers([slow.port]) }] } }, [{ upstream: 'api' }])
    const r = await get(`${p.url}/slow`)
    expect(r.status).toBe(504)
    expect(r.text).toContain('read timeout')
    expect(r.headers['x-checkups-worker']).toBeUndefined()
  })

  it('try_timeout spent → 504', async () => {
    const bs = await backends(2)
    for (const b of bs) b.mode = 'hang'
    const p = await proxy(
      { global: noHb, api: { read_timeout: 0.2, try_timeout: 0.1, cluster: [{ servers: servers(bs.map((b) => b.port)) }] } },
      [{ upstream: 'api' }],
    )
    const r = await get(`${p.url}/t`)
    expect(r.status).toBe(504)
    expect(r.text).toContain('try_timeout')
    expect(bs.map((b) => b.hits).sort()).toEqual([0, 1])
  })

  it('every peer refusing → 502 naming the cause', async () => {
    const ports = [await deadPort(), await deadPort()]
    const p = await proxy({ global: noHb, api: { cluster: [{ servers: servers(ports) }] } }, [{ upstream: 'api' }])
    const r = await get(`${p.url}/`)
    expect(r.status).toBe(502)
    expect(r.text).toContain('ECONNREFUSED')
  })

  it('no selectable peer (heartbeat: all err, protected off) → 503; unknown upstream → 503', async () => {
    const ports = [await deadPort(), await deadPort()]
    const p = await proxy(
      { global: { checkup_timer_interval: 1 }, api: { protected: false, timeout: 1, cluster: [{ servers: servers(ports) }] } },
      [{ path_prefix: '/ghost', upstream: 'ghost' }, { upstream: 'api' }],
      { heartbeat: true },
    )
    const statuses = (): unknown[] => {
      const st = p.checkups.getStatus() as unknown as Record<string, Array<Array<Record<string, unknown>>>>
      return (st['cls:api']?.[0] ?? []).map((x) => x['status'])
    }
    for (let i = 0; i < 100 && statuses().some((s) => s !== 'err'); i++) await new Promise((r) => setTimeout(r, 50))
    expect(statuses()).toEqual(['err', 'err'])
    const r1 = await get(`${p.url}/x`)
    expect(r1.status).toBe(503)
    expect(r1.text).toContain('no servers available')
    const r2 = await get(`${p.url}/ghost/x`)
    expect(r2.status).toBe(503)
    expect(r2.text).toContain('unknown skey ghost')
  })

  it('a POST whose body was streamed is not replayed on another peer; one refused before sending is', async () => {
    const [reset, ok] = await backends(2)
    if (!reset || !ok) throw new Error('backends')
    reset.mode = 'reset'
    const dead = await deadPort()
    const p = await proxy(
      { global: noHb, a: { cluster: [{ servers: servers([reset.port, ok.port]) }] }, b: { cluster: [{ servers: servers([dead, ok.port]) }] } },
      [{ path_prefix: '/a', upstream: 'a', strip_prefix: true }, { path_prefix: '/b', upstream: 'b', strip_prefix: true }],
    )
    const body = 'x'.repeat(100_000)
    const r1 = await get(`${p.url}/a/echo-count`, { 'content-type': 'text/plain' }, 'POST', body)
    expect(r1.status).toBe(502)
    expect(r1.text).toContain('not replayable')
    expect(ok.hits).toBe(0)
    const r2 = await get(`${p.url}/b/echo-count`, { 'content-type': 'text/plain' }, 'POST', body)
    expect(r2.status).toBe(200)
    expect(JSON.parse(r2.text)).toMatchObject({ backend: 'b2', received: 100_000 })
  })
})
