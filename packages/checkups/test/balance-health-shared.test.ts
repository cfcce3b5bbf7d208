/**
 * rise, slow_start and panic_threshold seen alike by every worker: the heartbeat records they
 * derive from are in the shared state zone, so two real worker processes that never probed
 * anything pick the same way. The test process is the heartbeat (rounds run on demand against
 * real loopback HTTP peers that can be told to answer 502); its clock may be set back, so a
 * recovery can be dated "30 s ago" without waiting (the only thing faked). Assertions are on
 * pick counts and shared status fields, never on durations.
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createZone } from '@checkups/shm'
import { SharedDict } from '@checkups/shdict'
import { Checkups, STATS_ZONE, STATS_ZONE_BYTES } from '@checkups/core'
import { createHeartbeat, type Heartbeat } from '@checkups/core/heartbeat'
import { hbView } from './fixtures/heartbeat-config.js'
import { httpPeer, type HttpPeer } from './fixtures/heartbeat-servers.js'
import { forkWorkers, stopWorkers } from './workers.js'

const H = '127.0.0.1'
const fixture = fileURLToPath(new URL('./fixtures/balance-worker.mjs', import.meta.url))
const children: ChildProcess[] = []
const peers: HttpPeer[] = []
let hb: Heartbeat
/** how far the heartbeat's clock is set back, ms */
let back = 0
let config: Record<string, unknown> = {}

type Reply = { ok: boolean; value?: unknown; error?: string }
function request(child: ChildProcess, msg: object): Promise<Reply> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Reply))
    child.send(msg)
  })
}

/** each worker's `n` selectPeer picks of `skey` */
async function picks(skey: string, n: number): Promise<number[][]> {
  return Promise.all(children.map(async (c) => (await request(c, { op: 'sel', skey, n })).value as number[]))
}

const count = (ports: number[], port: number): number => ports.filter((p) => p === port).length

type PeerSt = { server: string; status: string; rise?: { ok: number; needed: number }; slow_start?: { factor: number; until: number | null } }
/** each worker's getStatus() entry of the peer on `port` in `skey` */
async function peerStatus(skey: string, port: number): Promise<PeerSt[]> {
  return Promise.all(children.map(async (c) => {
    const st = (await request(c, { op: 'status' })).value as Record<string, PeerSt[][]>
    return st[`cls:${skey}`]![0]!.find((p) => p.server === `${skey}:${H}:${port}`)!
  }))
}

const http = (servers: HttpPeer[], more: Record<string, unknown>) => ({
  enable: true, typ: 'http', timeout: 0.5, ...more,
  http_opts: { query: 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', statuses: { '502': false } },
  cluster: [{ servers: servers.map((s) => ({ host: H, port: s.port })) }],
})

const round = async (): Promise<void> => { await hb.runRound({ fresh: true }) }

beforeAll(async () => {
  for (let i = 0; i < 8; i++) peers.push(await httpPeer(200))
  const [r1, r2, s1, s2, p1, p2, p3, p4] = peers as [HttpPeer, HttpPeer, HttpPeer, HttpPeer, HttpPeer, HttpPeer, HttpPeer, HttpPeer]
  config = {
    rs: http([r1, r2], { rise: 3 }),
    ss: http([s1, s2], { slow_start: 60 }),
    pt: http([p1, p2, p3, p4], { panic_threshold: 50 }),
  }
  const zones = ['state', 'mutex', 'locks', 'config'].map((n) => createZone(n, 1 << 20))
  const stats = createZone(STATS_ZONE, STATS_ZONE_BYTES)
  const dicts = Object.fromEntries(zones.map((z) => [z.name, SharedDict.create(z.buffer)])) as Record<string, SharedDict>
  new Checkups({ shared: dicts as never, stats: stats.buffer }).init(config)
  const view = hbView(config)
  const clock = { now: () => Date.now() - back, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) }
  hb = createHeartbeat({ shared: { state: dicts['state']!, mutex: dicts['mutex']! }, clock, worker: { id: 9, count: 1, pid: process.pid }, getConfig: () => view })
  // the first round writes every peer's first record, ok, now: no peer was ever down
  await round()
  await forkWorkers(children, fixture, config, [...zones, stats], [0, 1])
}, 60_000)

afterAll(async () => {
  await hb?.stop()
  await stopWorkers(children)
  await Promise.all(peers.map((p) => p.close()))
})

describe('shared health-derived balancing (2 worker processes)', () => {
  it('slow_start 60: peers whose first check was ok are at full weight in both workers, not ramping', async () => {
    const [, , s1, s2] = peers as [HttpPeer, HttpPeer, HttpPeer, HttpPeer]
    for (const p of [s1, s2]) {
      for (const st of await peerStatus('ss', p.port)) {
        expect(st.status).toBe('ok')
        expect(st.slow_start).toEqual({ factor: 1, weight: 1, until: null })
        expect(st).not.toHaveProperty('up_since')
      }
    }
    // equal weights at full share: each worker alternates between the two
    for (const w of await picks('ss', 10)) expect(count(w, s1.port)).toBe(5)
    // more rounds of ok checks change nothing (only a flip back from err starts a ramp)
    await round()
    for (const st of await peerStatus('ss', s1.port)) expect(st.slow_start!.factor).toBe(1)
  })

  it('rise 3: a recovered peer is used by neither worker until its third good check, then by both', async () => {
    const [flap, steady] = peers as [HttpPeer, HttpPeer]
    flap.mode = 502
    await round()
    expect((await peerStatus('rs', flap.port)).map((p) => p.status)).toEqual(['err', 'err'])
    flap.mode = 200
    for (let ok = 1; ok <= 2; ok++) {
      await round()
      for (const st of await peerStatus('rs', flap.port)) expect(st).toMatchObject({ status: 'err', rise: { ok, needed: 3 } })
      for (const w of await picks('rs', 10)) expect(count(w, steady.port)).toBe(10)
    }
    await round()
    for (const st of await peerStatus('rs', flap.port)) {
      expect(st.status).toBe('ok')
      expect(st.rise).toBeUndefined()
    }
    // equal weights, smooth round-robin: each worker alternates between the two again
    for (const w of await picks('rs', 10)) expect(count(w, flap.port)).toBe(5)
  })

  it('slow_start 60: a recovered peer\'s share ramps with the time since its recovery, the same in both workers', async () => {
    const [, , flap, steady] = peers as [HttpPeer, HttpPeer, HttpPeer, HttpPeer]
    // recover the peer with the heartbeat's clock `ago` ms back, then count 200 picks per worker
    const recoveredAgo = async (ago: number): Promise<{ shares: number[]; ramps: PeerSt['slow_start'][] }> => {
      flap.mode = 502
      await round()
      flap.mode = 200
      back = ago
      await round()
      back = 0
      const ramps = (await peerStatus('ss', flap.port)).map((p) => p.slow_start)
      const shares = (await picks('ss', 200)).map((w) => count(w, flap.port) / 200)
      return { shares, ramps }
    }
    // just now: factor ~0.1 → ~1/11 of the picks; 30 s ago: ~0.55 → ~0.55/1.55; 61 s ago: over, 1/2
    const now = await recoveredAgo(0)
    const half = await recoveredAgo(30_000)
    const over = await recoveredAgo(61_000)
    for (const s of now.shares) expect(s).toBeGreaterThan(0.04)
    for (const s of now.shares) expect(s).toBeLessThan(0.2)
    for (const s of half.shares) expect(s).toBeGreaterThan(0.3)
    for (const s of half.shares) expect(s).toBeLessThan(0.42)
    expect(over.shares).toEqual([0.5, 0.5])
    // one shared ramp: both workers end it at the same instant, 60 s after the recovery
    for (const r of [now, half]) {
      expect(r.ramps[0]!.until).not.toBeNull()
      expect(r.ramps[1]!.until).toBe(r.ramps[0]!.until)
    }
    expect(half.ramps[0]!.until! - now.ramps[0]!.until!).toBeLessThan(-25)
    expect(over.ramps.map((r) => r!.factor)).toEqual([1, 1])
    expect(count((await picks('ss', 10))[0]!, steady.port)).toBe(5)
  })

  it('panic_threshold 50: with 1 of 4 peers up every worker uses all 4; with 2 of 4 only the 2', async () => {
    const [, , , , p1, p2, p3, p4] = peers as HttpPeer[]
    const used = async (): Promise<number[][]> => (await picks('pt', 8)).map((w) => [...new Set(w)].sort((a, b) => a - b))
    const ports = (...ps: HttpPeer[]): number[] => ps.map((p) => p.port).sort((a, b) => a - b)
    p1!.mode = 502
    p2!.mode = 502
    await round()
    expect(await used()).toEqual([ports(p3!, p4!), ports(p3!, p4!)])
    p3!.mode = 502
    await round()
    // 1 of 4 usable = 25 % < 50 %: panic, the whole level is used, by both workers
    expect(await used()).toEqual([ports(p1!, p2!, p3!, p4!), ports(p1!, p2!, p3!, p4!)])
    for (const p of [p1, p2, p3]) p!.mode = 200
    await round()
    expect(await used()).toEqual([ports(p1!, p2!, p3!, p4!), ports(p1!, p2!, p3!, p4!)])
  })
})
