// No acknowledged change is lost (real `node apps/server`, 2 workers): a PUT that does not fit
// a full config zone answers 507 CKP_ERR_NO_MEMORY, is logged and changes nothing (the static
// upstream and every earlier PUT stay, the state file keeps its bytes); PUTs racing SIGHUP
// reloads of an unchanged config are all present afterwards in every worker, in the state
// file and after a restart; 200 parallel PUTs to one upstream get unique versions and the
// one with the highest version is what every worker, the state file and a restart hold.
import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, sleep, startBackends } from './fixtures/admin-server.js'

let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer | undefined
const H = '127.0.0.1'
const one = (port: number) => ({ cluster: [{ servers: [{ host: H, port }] }] })

beforeAll(async () => {
  backends = await startBackends(1)
})
afterEach(async () => {
  await server?.dispose()
  server = undefined
})
afterAll(async () => {
  await backends?.close()
})

describe('acknowledged changes', () => {
  it('a PUT into a full config zone: 507, logged, nothing changed, nothing evicted', async () => {
    const p = backends.ports[0]!
    const s = (server = new AdminServer({ workers: 2, upstreams: { api: one(p) }, server: { shared_dicts: { config: '64k' } } }))
    await s.start()
    const big = (i: number) => ({ cluster: [{ servers: Array.from({ length: 60 }, (_, k) => ({ host: `host-${k}.example.internal`, port: 2000 + i * 100 + k })) }] })
    const acked: string[] = []
    let refused: { status: number; body: unknown } | undefined
    let state = Buffer.alloc(0)
    for (let i = 0; i < 100 && !refused; i++) {
      const r = await s.putJson(`/upstreams/big${i}`, big(i))
      if (r.status === 200) {
        acked.push(`big${i}`)
        state = readFileSync(s.stateFile)
      } else {
        refused = r
      }
    }
    expect(refused?.status).toBe(507)
    expect((refused?.body as { error: { code: string } }).error.code).toBe('CKP_ERR_NO_MEMORY')
    expect(acked.length).toBeGreaterThan(1)
    expect(s.output).toContain('config write refused')
    expect(readFileSync(s.stateFile).equals(state)).toBe(true)
    for (const r of (await s.eachWorker('GET', '/upstreams')).values()) expect(Object.keys(r.body as object)).toEqual(['api', ...acked])
    for (const r of (await s.eachWorker('GET', '/upstreams/api/peer')).values()) expect(r.body).toEqual({ host: H, port: p })
  }, 120_000)

  it('PUTs racing SIGHUP reloads (config unchanged): every acknowledged PUT survives', async () => {
    const p = backends.ports[0]!
    const s = (server = new AdminServer({ workers: 2, upstreams: { api: one(p) } }))
    await s.start()
    const acked = new Map<string, number>()
    let stop = false
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < 40 && !stop; i++) {
        const skey = `w${w}-${i}`
        try {
          const r = await s.putJson(`/upstreams/${skey}`, one(3000 + i))
          if (r.status === 200) acked.set(skey, 3000 + i)
        } catch {
          // a connection cut by a worker leaving during the reload: not acknowledged
        }
      }
    }
    const writers = Promise.all([0, 1, 2].map(writer))
    for (let k = 0; k < 3; k++) {
      await sleep(400)
      s.signal('SIGHUP')
    }
    await writers
    stop = true
    for (let i = 0; i < 400 && (s.output.match(/"msg":"reload done"/g) ?? []).length < 1; i++) await sleep(50)
    await sleep(500)
    await s.waitReady()
    expect(acked.size).toBeGreaterThan(20)
    const check = (ups: Record<string, { cluster: Array<{ servers: Array<{ port: number }> }> }>) => {
      for (const [skey, port] of acked) expect(ups[skey]?.cluster[0]?.servers[0]?.port, skey).toBe(port)
    }
    for (const r of (await s.eachWorker('GET', '/upstreams')).values()) check(r.body as never)
    check((JSON.parse(readFileSync(s.stateFile, 'utf8')) as { upstreams: never }).upstreams)
    await s.stop()
    await s.start()
    for (const r of (await s.eachWorker('GET', '/upstreams')).values()) check(r.body as never)
  }, 180_000)

  it('200 parallel PUTs to one upstream: unique versions, the last acknowledged wins everywhere', async () => {
    const p = backends.ports[0]!
    const s = (server = new AdminServer({ workers: 3, upstreams: { api: one(p) } }))
    await s.start()
    const before = (await s.get('/status')).body as { shd_config_version: number }
    // 200 PUTs in flight at once, each on its own connection (spread over the workers)
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => s.putJson('/upstreams/race', one(20_000 + i))))
    // a PUT that waited out the writers' lock (5 s) is refused and changes nothing; the rest are acknowledged
    const refused = replies.filter((r) => r.status !== 200)
    expect(refused.map((r) => `${r.status} ${(r.body as { error?: { code: string } }).error?.code}`).filter((x) => x !== '503 CKP_ERR_LOCK_TIMEOUT')).toEqual([])
    const acked = replies.map((r, i) => ({ r, i })).filter(({ r }) => r.status === 200)
    expect(acked.length).toBeGreaterThan(20)
    expect(new Set(acked.map(({ r }) => r.worker)).size).toBe(3)
    const versions = acked.map(({ r }) => (r.body as { version: number }).version)
    // unique, and exactly (before, before + acknowledged]: each acknowledged PUT bumped the version once, no refused one did
    expect(new Set(versions).size).toBe(acked.length)
    expect(Math.min(...versions)).toBe(before.shd_config_version + 1)
    expect(Math.max(...versions)).toBe(before.shd_config_version + acked.length)
    const winner = 20_000 + (acked[versions.indexOf(Math.max(...versions))] as { i: number }).i
    const portOf = (u: unknown) => (u as { cluster: Array<{ servers: Array<{ port: number }> }> }).cluster[0]?.servers[0]?.port
    for (const r of (await s.eachWorker('GET', '/upstreams/race')).values()) expect(portOf(r.body)).toBe(winner)
    for (const r of (await s.eachWorker('GET', '/status')).values()) {
      expect((r.body as { shd_config_version: number }).shd_config_version).toBe(before.shd_config_version + acked.length)
    }
    const state = JSON.parse(readFileSync(s.stateFile, 'utf8')) as { upstreams: Record<string, unknown> }
    expect(portOf(state.upstreams['race'])).toBe(winner)
    await s.stop()
    await s.start()
    for (const r of (await s.eachWorker('GET', '/upstreams/race')).values()) expect(portOf(r.body)).toBe(winner)
  }, 180_000)
})
