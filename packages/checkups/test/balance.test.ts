// The balancing and health options: config boundary (rise, fall, max_conns, retry_budget,
// the new modes), `rise`/`fall` across heartbeat rounds against a real HTTP peer, and the
// load-aware balancers in one process (the shared-memory behaviour across processes is in
// balance-shared.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { Checkups, KEY, resolveConfig, decodeRecord, type HeartbeatRecord } from '@checkups/core'
import { createHeartbeat } from '@checkups/core/heartbeat'
import { hbView } from './fixtures/heartbeat-config.js'
import { httpPeer, type HttpPeer } from './fixtures/heartbeat-servers.js'
import { MIN_STEP_MS, STEP, stepToward } from '../src/balancer/load.js'

const H = '127.0.0.1'
const one = (more: Record<string, unknown>, server: Record<string, unknown> = {}) =>
  ({ u: { ...more, cluster: [{ servers: [{ host: H, port: 1, ...server }] }] } })
const err = (raw: unknown): string => {
  try {
    resolveConfig(raw)
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`
  }
  return 'accepted'
}

describe('config', () => {
  it('leaves an upstream of the original keys exactly as before (no new keys appear)', () => {
    const u = resolveConfig(one({})).upstreams['u']!
    expect(Object.keys(u)).not.toContain('rise')
    expect(Object.keys(u)).not.toContain('retry_budget')
    expect(Object.keys((u.cluster as { servers: object[] }[])[0]!.servers[0]!)).not.toContain('max_conns')
  })
  it('takes fall as sensibility, and refuses the two when they disagree', () => {
    expect(resolveConfig(one({ fall: 3 })).upstreams['u']!.sensibility).toBe(3)
    expect(resolveConfig(one({ fall: 3, sensibility: 3 })).upstreams['u']!.sensibility).toBe(3)
    expect(err(one({ fall: 3, sensibility: 2 }))).toBe('CKP_ERR_INVALID_CONFIG: u.fall: must equal sensibility when both are given')
    expect(Object.keys(resolveConfig(one({ fall: 3 })).upstreams['u']!)).not.toContain('fall')
  })
  it('validates rise, max_conns, retry_budget and the modes', () => {
    const u = resolveConfig(one({ rise: 2, mode: 'least_conn', retry_budget: { ratio: 0.2 } }, { max_conns: 5 })).upstreams['u']!
    expect([u.rise, u.mode, u.retry_budget]).toEqual([2, 'least_conn', { ratio: 0.2, min_concurrency: 3 }])
    expect(resolveConfig(one({ mode: 'p2c' })).upstreams['u']!.mode).toBe('p2c')
    expect(err(one({ rise: 0 }))).toBe('CKP_ERR_INVALID_CONFIG: u.rise: must be an integer 1-1000000')
    expect(err(one({}, { max_conns: 0 }))).toBe('CKP_ERR_INVALID_CONFIG: u.cluster[0].servers[0].max_conns: must be an integer 1-2147483647')
    expect(err(one({ retry_budget: { ratio: 2 } }))).toBe('CKP_ERR_INVALID_CONFIG: u.retry_budget.ratio: must be a number 0-1')
    expect(err(one({ mode: 'least' }))).toMatch(/^CKP_ERR_INVALID_CONFIG: u.mode: must be one of .*least_conn, p2c$/)
  })
})

describe('rise and fall across heartbeat rounds (real HTTP peer)', () => {
  let flap: HttpPeer, steady: HttpPeer
  beforeAll(async () => {
    flap = await httpPeer(200)
    steady = await httpPeer(200)
  })
  afterAll(async () => { await Promise.all([flap.close(), steady.close()]) })

  it('fall 2: down after the second failed check; rise 3: ok again after the third good one', async () => {
    const state = SharedDict.create(1 << 20)
    const ups = {
      typ: 'http', timeout: 0.5, fall: 2, rise: 3,
      http_opts: { query: 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', statuses: { '502': false } },
      cluster: [{ servers: [{ host: H, port: flap.port }, { host: H, port: steady.port }] }],
    }
    const view = hbView({ api: ups })
    const hb = createHeartbeat({ shared: { state, mutex: SharedDict.create(1 << 16) }, worker: { id: 0, count: 1, pid: 1 }, getConfig: () => view })
    const status = (): string => ['ok', 'unstable', 'err'][decodeRecord<HeartbeatRecord>(state.get(KEY.peerStatus('api', H, flap.port)) as Uint8Array)!.status]!
    const seen: string[] = []
    flap.mode = 502
    for (let i = 0; i < 2; i++) seen.push((await hb.runRound({ fresh: true }), status()))
    flap.mode = 200
    for (let i = 0; i < 3; i++) seen.push((await hb.runRound({ fresh: true }), status()))
    flap.mode = 502
    seen.push((await hb.runRound({ fresh: true }), status()))
    flap.mode = 200
    // a failure in between restarts the count of good checks
    for (let i = 0; i < 3; i++) seen.push((await hb.runRound({ fresh: true }), status()))
    expect(seen).toEqual(['ok', 'err', 'err', 'err', 'ok', 'ok', 'ok', 'ok', 'ok'])
    await hb.stop()
  })
})

describe('load-aware balancers in one process', () => {
  const mk = () => SharedDict.create(new SharedArrayBuffer(1 << 20))
  function checkups(ups: Record<string, unknown>): Checkups {
    const c = new Checkups({ shared: { state: mk(), mutex: mk(), locks: mk(), config: mk() } })
    const cfg = { u: { enable: false, ...ups } }
    c.init(cfg)
    c.prepareChecker(cfg)
    return c
  }
  const servers = (...w: number[]) => [{ servers: w.map((weight, i) => ({ host: H, port: 1000 + i, weight })) }]

  it('least_conn with nothing in flight spreads by weight exactly like wrr', () => {
    const seq = (mode: string): number[] => {
      const c = checkups({ mode, cluster: servers(1, 4, 3, 6) })
      return Array.from({ length: 14 }, () => c.selectPeer('u').port - 1000)
    }
    expect(seq('least_conn')).toEqual(seq('wrr'))
  })

  it('least_conn weighs in-flight by weight; p2c never picks a peer stuck with attempts and no answer', async () => {
    for (const mode of ['least_conn', 'p2c']) {
      const c = checkups({ mode, cluster: servers(1, 1) })
      const stuck: Array<() => void> = []
      const first = c.readyOk('u', (_h, port) => new Promise<number>((r) => stuck.push(() => r(port))))
      await Promise.resolve()
      const busy = stuck.length === 1 ? c.getStats('u') : {}
      const other = Object.entries(busy['u'] ?? {}).find(([, s]) => s.inflight === 0)![0]
      const picks = await Promise.all(Array.from({ length: 5 }, () => c.readyOk('u', (h, port) => `${h}:${port}`)))
      expect(picks).toEqual(Array(5).fill(other))
      stuck[0]!()
      await first
    }
  })

  it('p2c: peers answering within the clock\'s 1 ms keep a cost above 0 (0 would read as "no sample yet")', async () => {
    const c = checkups({ mode: 'p2c', cluster: servers(1, 1) })
    for (let i = 0; i < 50; i++) await c.readyOk('u', () => true)
    const costs = (c.getStatus()['cls:u'] as { latency_cost_ms?: number }[][])[0]!.map((p) => p.latency_cost_ms)
    expect(costs).toHaveLength(2)
    for (const k of costs) expect(k).toBeGreaterThan(0)
  })

  it('max_conns refuses through selectPeer too, with the code the proxy maps to 503', async () => {
    const c = checkups({ cluster: [{ servers: [{ host: H, port: 1000, max_conns: 1 }] }] })
    let release!: () => void
    const held = c.readyOk('u', () => new Promise<boolean>((r) => { release = () => r(true) }))
    await Promise.resolve()
    expect(() => c.selectPeer('u')).toThrow(expect.objectContaining({ code: 'CKP_ERR_MAX_CONNS' }))
    expect((c.getStatus()['cls:u'] as { inflight?: number; max_conns?: number }[][])[0]![0]).toMatchObject({ inflight: 1, max_conns: 1 })
    await expect(c.readyOk('u', () => true)).rejects.toMatchObject({ code: 'CKP_ERR_MAX_CONNS' })
    release()
    await held
    expect(c.selectPeer('u')).toEqual({ host: H, port: 1000 })
  })
})

describe('p2c latency cost: bounded steps toward each sample', () => {
  it.each([
    // cost, sample, share forgotten by the idle fade, next cost
    ['a stall sample moves a fast peer by one step only', 3, 50, 0, 3 * (1 + STEP)],
    ['a faster sample lowers it by one step at most', 3, 1, 0, 3 * (1 - STEP)],
    ['a sample within one step is taken as is (up)', 3, 3.2, 0, 3.2],
    ['a sample within one step is taken as is (down)', 3, 2.8, 0, 2.8],
    ['after a long pause the sample weighs what the fade forgot', 0.5, 20, 0.99, 0.5 + 19.5 * 0.99],
    ['from 0 (a sub-ms peer timed as 0 ms) a 1 ms sample still moves it', 0, 1, 0, MIN_STEP_MS],
    ['near 0 a step is MIN_STEP_MS, not a share of nothing', 0.1, 0, 0, 0.1 - MIN_STEP_MS],
  ])('%s', (_what, c, x, forgot, next) => {
    expect(stepToward(c, x, forgot)).toBeCloseTo(next, 9)
  })

  it('a burst of 8 stalled samples (50 ms) leaves a 3 ms peer below a 20 ms one', () => {
    let c = 3
    for (let i = 0; i < 8; i++) c = stepToward(c, 50, 0)
    expect(c).toBeCloseTo(3 * (1 + STEP) ** 8, 9)
    expect(c).toBeLessThan(20 / 2.5)
  })
})

describe('slow_start (simulated time)', () => {
  const mk = () => SharedDict.create(new SharedArrayBuffer(1 << 20))
  let t = 1_000_000
  const clock = { now: () => t, setTimeout: () => 0, clearTimeout: () => {} }
  const srv = (port: number, more: Record<string, unknown> = {}) => ({ host: H, port, ...more })
  const share = (c: Checkups, port: number): number => {
    let n = 0
    for (let i = 0; i < 1000; i++) if (c.selectPeer('u').port === port) n++
    return n / 1000
  }

  it('an added peer ramps from 10 % to 100 % of its weight; a recovered one (passive window over) too', async () => {
    const shared = { state: mk(), mutex: mk(), locks: mk(), config: mk() }
    const cfg = { u: { enable: false, slow_start: 10, cluster: [{ servers: [srv(1000, { max_fails: 1, fail_timeout: 5 })] }] } }
    new Checkups({ shared, clock }).init(cfg)
    const c = new Checkups({ shared, clock })
    c.prepareChecker(cfg)
    await c.updateUpstream('u', { ...cfg.u, cluster: [{ servers: [srv(1000, { max_fails: 1, fail_timeout: 5 }), srv(1001)] }] })
    // weights 1 and 0.1 → 1/11 of the picks; half way (factor 0.55) → 0.55/1.55; at the end 1/2
    expect(share(c, 1001)).toBeCloseTo(1 / 11, 2)
    const ramp = (port: number): unknown => (c.getStatus()['cls:u'] as { slow_start?: unknown }[][])[0]!.find((_p, i) => i === port - 1000)!.slow_start
    const end = (t + 10_000) / 1000
    expect(ramp(1001)).toEqual({ factor: 0.1, weight: 0.1, until: end })
    expect(ramp(1000)).toEqual({ factor: 1, weight: 1, until: null })
    t += 5_000
    expect(share(c, 1001)).toBeCloseTo(0.55 / 1.55, 1)
    expect(ramp(1001)).toEqual({ factor: 0.55, weight: 0.55, until: end })
    t += 5_000
    expect(share(c, 1001)).toBe(0.5)
    expect(ramp(1001)).toEqual({ factor: 1, weight: 1, until: null })
    // 1000 fails once (max_fails 1): out for fail_timeout 5 s, then back at 10 %
    c.feedbackStatus('u', H, 1000, true)
    expect(share(c, 1001)).toBe(1)
    t += 5_001
    expect(share(c, 1000)).toBeCloseTo(1 / 11, 2)
    t += 10_000
    expect(share(c, 1000)).toBe(0.5)
  })
})

describe('panic_threshold', () => {
  const mk = () => SharedDict.create(new SharedArrayBuffer(1 << 20))
  it('below the threshold every peer of the level is used again; at or above it only the healthy ones', () => {
    const shared = { state: mk(), mutex: mk(), locks: mk(), config: mk() }
    const servers = [0, 1, 2, 3].map((i) => ({ host: H, port: 1000 + i, max_fails: 1, fail_timeout: 30 }))
    const cfg = { u: { enable: false, panic_threshold: 50, cluster: [{ servers }] } }
    new Checkups({ shared }).init(cfg)
    const c = new Checkups({ shared })
    c.prepareChecker(cfg)
    const picks = (): number[] => [...new Set(Array.from({ length: 8 }, () => c.selectPeer('u').port - 1000))].sort()
    c.feedbackStatus('u', H, 1000, true)
    c.feedbackStatus('u', H, 1001, true)
    expect(picks()).toEqual([2, 3]) // 2 of 4 usable = 50 %: not below the threshold
    c.feedbackStatus('u', H, 1002, true)
    expect(picks()).toEqual([0, 1, 2, 3]) // 1 of 4 = 25 % < 50 %: panic, all are used
    expect(() => resolveConfig(one({ panic_threshold: 101 }))).toThrow('u.panic_threshold: must be a percentage 0-100')
  })
})
