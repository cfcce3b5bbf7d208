// Heartbeat rounds: records against real loopback peers, protected / sensibility
// across rounds, one probe per distinct peer, bounded concurrency, round keys and the version
// slot, the schedule (no drift, no overlap) on a manual clock, the thread-pool path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { KEY, SLOT, decodeRecord, type HeartbeatRecord } from '@checkups/core'
import { createHeartbeat, type HeartbeatOptions } from '@checkups/core/heartbeat'
import { hbView } from './fixtures/heartbeat-config.js'
import { deferred, ManualClock } from './fixtures/heartbeat-clock.js'
import { deadPort, httpPeer, type HttpPeer } from './fixtures/heartbeat-servers.js'

const OK = 0, UNSTABLE = 1, ERR = 2
const QUERY = 'GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
const statuses = { '200': true, '502': false }
const H = '127.0.0.1'

function zones() {
  return { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 16) }
}
function record(state: SharedDict, skey: string, port: number): HeartbeatRecord | undefined {
  return decodeRecord<HeartbeatRecord>(state.get(KEY.peerStatus(skey, H, port)) as Uint8Array | undefined)
}
type UpstreamLike = Record<string, unknown>
type Extra = Partial<HeartbeatOptions> & { globals?: Record<string, unknown> }
function hb(shared: ReturnType<typeof zones>, upstreams: Record<string, UpstreamLike>, { globals, ...extra }: Extra = {}) {
  const view = hbView(upstreams, globals)
  return createHeartbeat({ shared, worker: { id: 0, count: 1, pid: 1000 }, getConfig: () => view, ...extra })
}
const http = (ports: number[], more: Partial<UpstreamLike> = {}): UpstreamLike => ({
  typ: 'http', timeout: 0.5, http_opts: { query: QUERY, statuses }, cluster: [{ servers: ports.map((port) => ({ host: H, port })) }], ...more,
})

describe('rounds against real HTTP peers', () => {
  const peers: HttpPeer[] = []
  let p200: HttpPeer, p502: HttpPeer, hang: HttpPeer, dead1: number, dead2: number
  beforeAll(async () => {
    peers.push(p200 = await httpPeer(200), p502 = await httpPeer(502), hang = await httpPeer('hang'))
    dead1 = await deadPort()
    dead2 = await deadPort()
  })
  afterAll(async () => { await Promise.all(peers.map((p) => p.close())) })

  it('writes one record per peer, the round keys, and bumps the version slot once', async () => {
    const z = zones()
    const before = z.state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION)
    const rep = await hb(z, { api: http([p200.port, p502.port, hang.port]) }, { globals: { checkup_timer_overtime: 30 } }).runRound()
    expect(rep).toMatchObject({ upstreams: 1, peers: 3, probes: 3, written: 3, committed: true, version: before + 1 })
    expect(record(z.state, 'api', p200.port)).toMatchObject({ status: OK, fail_num: 0, msg: null })
    expect(record(z.state, 'api', p502.port)).toMatchObject({ status: ERR, fail_num: 1, msg: 'bad status code' })
    expect(record(z.state, 'api', hang.port)).toMatchObject({ status: ERR, fail_num: 1, msg: 'timeout' })
    expect(z.state.get(KEY.LAST_CHECK_TIME)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(z.state.get(KEY.TIMER_ALIVE)).toBe(true)
    expect(z.state.ttl(KEY.TIMER_ALIVE)).toBeGreaterThan(25)
    expect(z.state.loadSlot(SLOT.STATE_HEARTBEAT_VERSION)).toBe(before + 1)
  })

  it('everything down: protected keeps the first server unstable, protected: false does not', async () => {
    const z = zones()
    await hb(z, {
      prot: http([dead1, p502.port, dead2]),
      open: http([dead1, p502.port, dead2], { protected: false }),
    }).runRound()
    expect([dead1, p502.port, dead2].map((p) => record(z.state, 'prot', p)?.status)).toEqual([UNSTABLE, ERR, ERR])
    expect([dead1, p502.port, dead2].map((p) => record(z.state, 'open', p)?.status)).toEqual([ERR, ERR, ERR])
    expect(record(z.state, 'prot', dead1)?.msg).toBe('connection refused')
  })

  it('sensibility 3 needs three failed rounds; one ok flips back', async () => {
    const z = zones()
    const peer = await httpPeer(200)
    peers.push(peer)
    const h = hb(z, { s3: http([p200.port, peer.port], { sensibility: 3 }) })
    const seen: Array<[number, number]> = []
    const step = async () => { await h.runRound(); const r = record(z.state, 's3', peer.port)!; seen.push([r.status, r.fail_num]) }
    await step()
    peer.mode = 502
    await step(); await step(); await step(); await step()
    peer.mode = 200
    await step()
    expect(seen).toEqual([[OK, 0], [OK, 1], [OK, 2], [ERR, 3], [ERR, 4], [OK, 0]])
  })

  it('a peer in several clusters and upstreams is probed once per round', async () => {
    const z = zones()
    const peer = await httpPeer(200)
    peers.push(peer)
    const rep = await hb(z, {
      a: { ...http([]), cluster: [{ servers: [{ host: H, port: peer.port }] }, { servers: [{ host: H, port: peer.port }, { host: H, port: p200.port }] }] },
      b: { ...http([]), cluster: { c1: { servers: [{ host: H, port: peer.port }] } } },
    }).runRound()
    expect(rep).toMatchObject({ upstreams: 2, peers: 3, probes: 2, written: 3 })
    expect(peer.hits).toBe(1)
    expect(record(z.state, 'a', peer.port)?.status).toBe(OK)
    expect(record(z.state, 'b', peer.port)?.status).toBe(OK)
  })

  it('enable: false and default_heartbeat_enable: false skip an upstream', async () => {
    const z = zones()
    const rep = await hb(z, { off: http([p200.port], { enable: false }), dflt: http([p502.port]) },
      { globals: { default_heartbeat_enable: false } }).runRound()
    expect(rep).toMatchObject({ upstreams: 0, written: 0, committed: true })
    expect(record(z.state, 'off', p200.port)).toBeUndefined()
  })

  it('the thread pool writes the same records straight into state', async () => {
    const z = zones()
    const h = hb(z, { api: http([p200.port, p502.port]), cust: { ...http([dead1]), typ: 'general' } },
      { pool: true, customHeartbeats: { cust: () => ({ status: 0, via: 'main' }) } })
    const rep = await h.runRound()
    await h.stop()
    expect(rep).toMatchObject({ upstreams: 2, written: 3, committed: true })
    expect(record(z.state, 'api', p200.port)?.status).toBe(OK)
    expect(record(z.state, 'api', p502.port)).toMatchObject({ status: ERR, msg: 'bad status code' })
    expect(record(z.state, 'cust', dead1)).toMatchObject({ status: OK, via: 'main' })
  })
})

describe('custom heartbeats and concurrency', () => {
  it('extras are stored; a throw is err with its message; ups.heartbeat wins over customHeartbeats', async () => {
    const z = zones()
    const ups: Record<string, UpstreamLike> = {
      c: { cluster: [{ servers: [{ host: H, port: 1 }, { host: H, port: 2 }] }],
        heartbeat: (_h: string, port: number) => { if (port === 2) throw new Error('probe exploded'); return { status: 0, build: 'v1' } } },
      d: { cluster: [{ servers: [{ host: H, port: 3 }] }] },
    }
    await hb(z, ups, { customHeartbeats: { c: () => 2, d: async () => ({ status: 1, msg: 'degraded', lag: 7 }) } }).runRound()
    expect(record(z.state, 'c', 1)).toMatchObject({ status: OK, build: 'v1', msg: null })
    expect(record(z.state, 'c', 2)).toMatchObject({ status: ERR, msg: 'probe exploded' })
    expect(record(z.state, 'd', 3)).toMatchObject({ status: UNSTABLE, msg: 'degraded', lag: 7 })
  })

  it('bounds probes in flight', async () => {
    let inFlight = 0, max = 0
    const heartbeat = async () => {
      max = Math.max(max, ++inFlight)
      await new Promise((r) => setTimeout(r, 20))
      inFlight -= 1
      return 0
    }
    const servers = Array.from({ length: 40 }, (_, i) => ({ host: H, port: 1000 + i }))
    await hb(zones(), { x: { cluster: [{ servers }], heartbeat } }, { concurrency: 7, maxSockets: 7 }).runRound()
    expect(max).toBe(7)
    max = 0
    await hb(zones(), { x: { cluster: [{ servers }], heartbeat } }).runRound()
    expect(max).toBe(40)
  })

  it('peers hanging until their timeout do not hold back the others (sockets still bounded)', async () => {
    const done: string[] = []
    let inFlight = 0, max = 0
    const heartbeat = async (_h: string, port: number) => {
      max = Math.max(max, ++inFlight)
      const hang = port < 1004
      await new Promise((r) => setTimeout(r, hang ? 1500 : 5))
      inFlight -= 1
      done.push(hang ? 'hang' : 'fast')
      return 0
    }
    // the 4 hangers come first and fill both work slots; the 30 fast probes run once the
    // hangers count as slow (after 100 ms), while the socket bound (6) is never passed
    const servers = Array.from({ length: 34 }, (_, i) => ({ host: H, port: 1000 + i }))
    await hb(zones(), { x: { cluster: [{ servers }], heartbeat } }, { concurrency: 2, maxSockets: 6 }).runRound()
    expect(done.slice(0, 30)).toEqual(Array(30).fill('fast'))
    expect(max).toBe(6)
  })
})

describe('schedule on a manual clock', () => {
  function scheduled(clock: ManualClock, interval: number) {
    const starts: number[] = []
    let gate = deferred()
    let running = 0, overlap = 0
    const h = createHeartbeat({
      shared: zones(), clock, worker: { id: 0, count: 1, pid: 1 },
      getConfig: () => hbView({ x: { cluster: [{ servers: [{ host: H, port: 1 }] }] } }, { checkup_timer_interval: interval }),
      customHeartbeats: { x: async () => { starts.push(clock.now()); if (++running > 1) overlap++; await gate.promise; running--; return 0 } },
    })
    return { h, starts, finish: () => { const g = gate; gate = deferred(); g.resolve() }, overlap: () => overlap }
  }

  /** a fresh manual clock, its start time and a started schedule of 5 s rounds */
  function started() {
    const clock = new ManualClock()
    const t0 = clock.now()
    const s = scheduled(clock, 5)
    s.h.start()
    return { clock, t0, s }
  }

  it('first round at start, then every interval from round start (slow rounds do not drift)', async () => {
    const { clock, t0, s } = started()
    await clock.advance(0)
    expect(s.h.isLeader()).toBe(true)
    expect(s.starts).toEqual([t0])
    await clock.advance(1200) // the round takes 1.2 s of clock time
    s.finish()
    await clock.settle()
    await clock.advance(3800)
    expect(s.starts).toEqual([t0, t0 + 5000])
    s.finish()
    await clock.advance(5000)
    expect(s.starts).toEqual([t0, t0 + 5000, t0 + 10000])
    s.finish()
    await s.h.stop()
  })

  it('a round that outlasts the interval is not overlapped; the next starts right after', async () => {
    const { clock, t0, s } = started()
    await clock.advance(7000)
    expect(s.starts).toEqual([t0])
    s.finish()
    await clock.settle()
    await clock.advance(0)
    expect(s.starts).toEqual([t0, t0 + 7000])
    expect(s.overlap()).toBe(0)
    s.finish()
    await s.h.stop()
  })
})
