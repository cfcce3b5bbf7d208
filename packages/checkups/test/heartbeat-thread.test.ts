// Where rounds run: `global.heartbeat_thread` ('auto' by default: the piscina thread from
// `heartbeat_thread_peers` peers on), shown in the round report and in getStatus; thread and
// in-process rounds write identical records and report identical checks over real loopback
// peers; checks reach onRound in batches; with history the peers that timed out start first.
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { Checkups, KEY, decodeRecord, type HeartbeatRecord } from '@checkups/core'
import { createHeartbeat, type HeartbeatOptions, type PeerCheck } from '@checkups/core/heartbeat'
import { hbView } from './fixtures/heartbeat-config.js'
import { deadPort, httpPeer, type HttpPeer } from './fixtures/heartbeat-servers.js'
import { fakeClock } from './helpers.js'

const H = '127.0.0.1'
const QUERY = 'GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
const statuses = { '200': true, '502': false }

function zones() {
  return { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 16) }
}
const http = (ports: number[], more: Record<string, unknown> = {}) => ({
  typ: 'http', timeout: 0.3, http_opts: { query: QUERY, statuses }, cluster: [{ servers: ports.map((port) => ({ host: H, port })) }], ...more,
})
type Extra = Partial<HeartbeatOptions> & { globals?: Record<string, unknown> }
function hb(shared: ReturnType<typeof zones>, upstreams: Record<string, unknown>, { globals, ...extra }: Extra = {}) {
  const view = hbView(upstreams, globals)
  return createHeartbeat({ shared, worker: { id: 0, count: 1, pid: 1000 }, getConfig: () => view, ...extra })
}

const peers: HttpPeer[] = []
let p200: HttpPeer, p502: HttpPeer, hang: HttpPeer, dead: number
beforeAll(async () => {
  peers.push(p200 = await httpPeer(200), p502 = await httpPeer(502), hang = await httpPeer('hang'))
  dead = await deadPort()
})
afterAll(async () => { await Promise.all(peers.map((p) => p.close())) })

describe('heartbeat_thread', () => {
  it("'auto' runs in-process below heartbeat_thread_peers and on the thread from it on", async () => {
    const below = hb(zones(), { a: http([p200.port, p502.port]) }, { globals: { heartbeat_thread_peers: 3 } })
    const at = hb(zones(), { a: http([p200.port, p502.port, dead]) }, { globals: { heartbeat_thread_peers: 3 } })
    // custom heartbeats cannot cross threads: they do not count toward the threshold
    const custom = hb(zones(), { a: http([p200.port, p502.port]), c: { cluster: [{ servers: [{ host: H, port: 1 }] }] } },
      { globals: { heartbeat_thread_peers: 3 }, customHeartbeats: { c: () => 0 } })
    const reports = [await below.runRound(), await at.runRound(), await custom.runRound()]
    await Promise.all([below.stop(), at.stop(), custom.stop()])
    expect(reports.map((r) => [r.runner, r.peers, r.committed])).toEqual([['in-process', 2, true], ['thread', 3, true], ['in-process', 3, true]])
  })

  it('true and false force the runner whatever the size; the pool option wins over the global', async () => {
    const one = { a: http([p200.port]) }
    const forced = hb(zones(), one, { globals: { heartbeat_thread: true } })
    const off = hb(zones(), { a: http([p200.port, p502.port, dead]) }, { globals: { heartbeat_thread: false, heartbeat_thread_peers: 1 } })
    const opt = hb(zones(), one, { globals: { heartbeat_thread: true }, pool: false })
    const runners = [(await forced.runRound()).runner, (await off.runRound()).runner, (await opt.runRound()).runner]
    await Promise.all([forced.stop(), off.stop(), opt.stop()])
    expect(runners).toEqual(['thread', 'in-process', 'in-process'])
  })

  it('bad values are refused at the boundary with the path', () => {
    expect(() => hbView({}, { heartbeat_thread: 'yes' })).toThrow(/global\.heartbeat_thread: must be 'auto', true or false/)
    expect(() => hbView({}, { heartbeat_thread_peers: 0 })).toThrow(/global\.heartbeat_thread_peers: must be an integer/)
  })

  it('getStatus shows where the last round ran (the default picks the thread past the threshold)', async () => {
    const servers = [p200.port, p502.port, dead].map((port) => ({ host: H, port }))
    for (const [threshold, runner] of [[3, 'thread'], [4, 'in-process']] as const) {
      const config = { global: { heartbeat_thread_peers: threshold }, api: { typ: 'http', timeout: 0.3, http_opts: { query: QUERY, statuses }, cluster: [{ servers }] } }
      const shared = {
        state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 16), locks: SharedDict.create(1 << 16), config: SharedDict.create(1 << 20),
      }
      const clock = fakeClock()
      new Checkups({ shared, clock }).init(config)
      const c = new Checkups({ shared, clock, worker: { id: 0, count: 1, pid: 4242 } })
      c.prepareChecker(config)
      expect(c.getStatus().heartbeat_round).toBeUndefined()
      c.createChecker()
      try {
        expect(c.isHeartbeatLeader()).toBe(true)
        expect(await c.checkNow()).toBe(true)
        const st = c.getStatus()
        expect(st.heartbeat_round).toMatchObject({ runner, peers: 3 })
        expect(st.heartbeat_round?.ms).toBeTypeOf('number')
        expect(st['cls:api']).toEqual([[
          expect.objectContaining({ status: 'ok' }),
          expect.objectContaining({ status: 'err', msg: 'bad status code' }),
          expect.objectContaining({ status: 'err', msg: 'connection refused' }),
        ]])
      } finally {
        await c.stop()
      }
    }
  })
})

describe('thread and in-process rounds agree', () => {
  it('same records (but lastmodified) and the same checks, round after round', async () => {
    const config = {
      // levels: the hanging and refused peers are held until an ok server, then written as err
      api: { ...http([hang.port, dead, p200.port, p502.port]), sensibility: 2 },
      down: http([dead, hang.port]),
      solo: { ...http([p502.port]), protected: false },
      named: { typ: 'http', timeout: 0.3, http_opts: { query: QUERY, statuses }, cluster: { b: { servers: [{ host: H, port: p502.port }] }, a: { servers: [{ host: H, port: p200.port }] } } },
    }
    const runs = await Promise.all([false, true].map(async (pool) => {
      const z = zones()
      const checks: PeerCheck[][] = []
      const h = hb(z, config, { pool, onRound: (c) => { checks.push(c) } })
      const reports = [await h.runRound(), await h.runRound()]
      await h.stop()
      const records: Record<string, unknown> = {}
      for (const [skey, ups] of Object.entries(config)) {
        const levels = Array.isArray(ups.cluster) ? ups.cluster : Object.values(ups.cluster)
        for (const s of levels.flatMap((l) => l.servers)) {
          const rec = decodeRecord<HeartbeatRecord>(z.state.get(KEY.peerStatus(skey, s.host, s.port)) as Uint8Array)
          const { lastmodified, ...rest } = rec ?? ({} as HeartbeatRecord)
          expect(lastmodified).toBeTypeOf('number')
          records[`${skey}:${s.port}`] = rest
        }
      }
      const sorted = checks.map((c) => [...c].sort((x, y) => `${x.skey}:${x.port}`.localeCompare(`${y.skey}:${y.port}`)))
      return { records, checks: sorted, reports: reports.map((r) => [r.runner, r.upstreams, r.peers, r.probes, r.written, r.failed, r.committed]) }
    }))
    const [local, thread] = runs as [typeof runs[0], typeof runs[0]]
    expect(local.reports.map((r) => r[0])).toEqual(['in-process', 'in-process'])
    expect(thread.reports.map((r) => r[0])).toEqual(['thread', 'thread'])
    expect(thread.reports.map((r) => r.slice(1))).toEqual(local.reports.map((r) => r.slice(1)))
    expect(thread.records).toEqual(local.records)
    expect(thread.checks).toEqual(local.checks)
    expect(local.records[`api:${dead}`]).toMatchObject({ status: 2, fail_num: 2, msg: 'connection refused' })
    expect(local.records[`api:${hang.port}`]).toMatchObject({ status: 2, fail_num: 2, msg: 'timeout' })
    expect(local.records[`down:${dead}`]).toMatchObject({ status: 1, msg: 'connection refused' })
  })
})

describe('onRound batches and start order', () => {
  it('a round of 1 100 checks arrives in 3 batches of at most 512, done only on the last', async () => {
    const servers = Array.from({ length: 1100 }, (_, i) => ({ host: H, port: 2000 + i }))
    const calls: Array<[number, boolean]> = []
    const h = hb(zones(), { x: { cluster: [{ servers }] } }, { customHeartbeats: { x: () => 0 }, onRound: (c, _ms, done) => { calls.push([c.length, done]) } })
    const rep = await h.runRound()
    await h.stop()
    expect(rep.checks).toHaveLength(1100)
    expect(calls).toEqual([[512, false], [512, false], [76, true]])
  })

  it('with history: peers that timed out start first, then other failures, then the rest', async () => {
    const servers = Array.from({ length: 12 }, (_, i) => ({ host: H, port: 3000 + i }))
    const kind = (port: number) => (port % 4 === 1 ? 'timeout' : port % 4 === 2 ? 'refused' : 'ok')
    let order: string[] = []
    const heartbeat = (_h: string, port: number) => {
      order.push(kind(port))
      const k = kind(port)
      return k === 'ok' ? 0 : { status: 2, msg: k === 'timeout' ? 'timeout' : 'connection refused' }
    }
    const h = hb(zones(), { x: { cluster: [{ servers }], heartbeat } }, { concurrency: 1, maxSockets: 1 })
    await h.runRound()
    expect(order.slice(0, 3)).toEqual(['ok', 'timeout', 'refused']) // no history: server order
    order = []
    await h.runRound()
    await h.stop()
    expect(order).toEqual([...Array(3).fill('timeout'), ...Array(3).fill('refused'), ...Array(6).fill('ok')])
  })

  it('a connected probe frees its work slot: one slot, 10 hanging peers first, the 20 others all answered before any hanger times out', async () => {
    // every hanging peer notes, when a probe gives up on it, how many answers the others had sent
    let answered = 0
    const seenAtTimeout: number[] = []
    const conns = new Set<net.Socket>()
    const listen = async (onConn: (c: net.Socket) => void): Promise<net.Server> => {
      const srv = net.createServer((c) => { conns.add(c); c.on('error', () => {}); c.on('close', () => conns.delete(c)); onConn(c) })
      await new Promise<void>((r) => srv.listen(0, H, r))
      return srv
    }
    const hangers = await Promise.all(Array.from({ length: 10 }, () => listen((c) => { c.resume(); c.on('close', () => seenAtTimeout.push(answered)) })))
    const fast = await Promise.all(Array.from({ length: 20 }, () => listen((c) => {
      c.once('data', () => { answered += 1; c.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n') })
    })))
    const portOf = (srv: net.Server) => ({ host: H, port: (srv.address() as net.AddressInfo).port })
    try {
      const h = hb(zones(), {
        hangs: { typ: 'http', timeout: 0.5, http_opts: { query: QUERY, statuses }, cluster: [{ servers: hangers.map(portOf) }] },
        fast: { typ: 'http', timeout: 5, http_opts: { query: QUERY, statuses }, cluster: [{ servers: fast.map(portOf) }] },
      }, { concurrency: 1, maxSockets: 64, pool: false })
      const rep = await h.runRound()
      await h.stop()
      expect(rep).toMatchObject({ probes: 30, written: 30, committed: true })
      expect(rep.checks.filter((c) => c.msg === 'timeout')).toHaveLength(10)
      expect(rep.checks.filter((c) => !c.failed)).toHaveLength(20)
      for (let i = 0; i < 100 && seenAtTimeout.length < 10; i++) await new Promise((r) => setTimeout(r, 10))
      // without the release on connect, each hanger would hold the only slot for 100 ms and the
      // answering peers would not even have started when the first hanger timed out
      expect(seenAtTimeout).toEqual(Array(10).fill(20))
    } finally {
      for (const c of conns) c.destroy()
      await Promise.all([...hangers, ...fast].map((srv) => new Promise((r) => srv.close(r))))
    }
  })
})
