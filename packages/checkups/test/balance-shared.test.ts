/**
 * The load-aware balancing state is shared by every worker: in-flight counts (least_conn,
 * p2c, max_conns) are the statistics zone's, so a process that sent nothing itself still sees
 * what the others have in flight. Three real processes on the same zones, real loopback
 * HTTP peers; the slow peer holds its requests until the test releases them.
 */
import type { ChildProcess } from 'node:child_process'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createZone } from '@checkups/shm'
import { SharedDict } from '@checkups/shdict'
import { Checkups, STATS_ZONE, STATS_ZONE_BYTES } from '@checkups/core'
import { forkWorkers, stopWorkers } from './workers.js'

const H = '127.0.0.1'
const fixture = fileURLToPath(new URL('./fixtures/balance-worker.mjs', import.meta.url))
const children: ChildProcess[] = []
const servers: Server[] = []
let slow = 0
let fast = 0
let bad = 0
const parked: ServerResponse[] = []
let slowSeen = 0

type Reply = { ok: boolean; value?: unknown; error?: string }
function request(child: ChildProcess, msg: object): Promise<Reply> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Reply))
    child.send(msg)
  })
}

async function listen(handler: (res: ServerResponse) => void): Promise<number> {
  const s = createServer((_req, res) => handler(res))
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, H, r))
  return (s.address() as AddressInfo).port
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10))
  if (!cond()) throw new Error(`timed out waiting for ${what}`)
}

function release(): void {
  for (const res of parked.splice(0)) res.end('slow')
}

const ups = (mode: string, extra: Record<string, unknown>[] = [], first: Record<string, unknown> = {}) => ({
  mode, enable: false, cluster: [{ servers: [{ host: H, port: slow, weight: 2, ...first }, ...extra] }],
})

beforeAll(async () => {
  slow = await listen((res) => {
    slowSeen++
    parked.push(res)
  })
  fast = await listen((res) => res.end('fast'))
  bad = await listen((res) => res.writeHead(502).end('bad'))
  const config = {
    lc: ups('least_conn'),
    p2: ups('p2c'),
    mc: ups('wrr', [], { max_conns: 10 }),
    // level 1 answers 502 at once, level 2 (the slow peer) holds: every call retries into it
    od: { enable: false, typ: 'http', try: 1, http_opts: { statuses: { '502': false } },
      outlier_detection: { consecutive_gateway_failure: 2, base_ejection_time: 60, max_ejection_percent: 50 },
      cluster: [{ servers: [{ host: H, port: bad }, { host: H, port: fast }] }] },
    rb: { enable: false, retry_budget: { ratio: 0.1, min_concurrency: 3 }, cluster: [{ servers: [{ host: H, port: bad }] }, { servers: [{ host: H, port: slow }] }] },
  }
  const zones = ['state', 'mutex', 'locks', 'config'].map((n) => createZone(n, 1 << 20))
  const stats = createZone(STATS_ZONE, STATS_ZONE_BYTES)
  const dicts = Object.fromEntries(zones.map((z) => [z.name, SharedDict.create(z.buffer)]))
  new Checkups({ shared: dicts as never, stats: stats.buffer }).init(config)
  await forkWorkers(children, fixture, config, [...zones, stats], [0, 1, 2])
})

afterAll(async () => {
  release()
  await stopWorkers(children)
  for (const s of servers) s.close()
})

/** Worker 0 puts 10 calls of `skey` in flight; once `seen` reached the slow peer, worker 2 makes one call. */
async function holdTen(skey: string, seen: number, what: string): Promise<{ base: number; refused: Reply }> {
  const [a, , c] = children as [ChildProcess, ChildProcess, ChildProcess]
  const base = slowSeen
  expect((await request(a, { op: 'hold', skey, n: 10 })).ok).toBe(true)
  await until(() => slowSeen - base === seen, what)
  return { base, refused: await request(c, { op: 'one', skey }) }
}

/** Worker 2's next call of `skey` parks on the slow peer and, released, is answered by it. */
async function nextGoesThrough(skey: string, what: string): Promise<void> {
  const next = request(children[2]!, { op: 'one', skey })
  await until(() => parked.length === 1, what)
  release()
  expect(await next).toEqual({ ok: true, value: slow })
}

/** workers 0 and 1 each put 10 attempts in flight on the slow peer (the only one configured) */
async function hold20(skey: string): Promise<void> {
  const [a, b] = children as [ChildProcess, ChildProcess]
  const base = slowSeen
  expect((await request(a, { op: 'hold', skey, n: 10 })).ok).toBe(true)
  expect((await request(b, { op: 'hold', skey, n: 10 })).ok).toBe(true)
  await until(() => slowSeen - base === 20, '20 requests on the slow peer')
}

async function settleAll(): Promise<unknown[]> {
  release()
  const [a, b] = children as [ChildProcess, ChildProcess]
  const out = [await request(a, { op: 'settle' }), await request(b, { op: 'settle' })]
  return out.flatMap((r) => r.value as unknown[])
}

describe('shared in-flight counts', () => {
  it('least_conn: 2 workers × 10 slow requests; a third worker sends the 21st to the other peer', async () => {
    await hold20('lc')
    const c = children[2]!
    // the fast peer joins (dynamic update); the slow one keeps weight 2, so with per-worker
    // counts (0 and 0, a tie) weighted round-robin would pick the slow peer first
    expect((await request(c, { op: 'update', skey: 'lc', ups: ups('least_conn', [{ host: H, port: fast }]) })).ok).toBe(true)
    const got = await request(c, { op: 'one', skey: 'lc' })
    expect(got).toEqual({ ok: true, value: fast })
    // the 20 held attempts all end on the slow peer once released
    expect(await settleAll()).toEqual(Array(20).fill(slow))
  })

  it('p2c: a peer with 20 attempts in flight and no answer yet is not chosen by another worker', async () => {
    await hold20('p2')
    const c = children[2]!
    expect((await request(c, { op: 'update', skey: 'p2', ups: ups('p2c', [{ host: H, port: fast }]) })).ok).toBe(true)
    const ports: unknown[] = []
    for (let i = 0; i < 5; i++) ports.push((await request(c, { op: 'one', skey: 'p2' })).value)
    expect(ports).toEqual(Array(5).fill(fast))
    expect(await settleAll()).toEqual(Array(20).fill(slow))
  })

  it('max_conns 10: 10 in flight from one worker → another worker is refused with CKP_ERR_MAX_CONNS', async () => {
    const a = children[0]!
    const { refused } = await holdTen('mc', 10, '10 requests on the slow peer')
    expect(refused).toEqual({ ok: false, error: 'CKP_ERR_MAX_CONNS: every peer left is at max_conns' })
    release()
    expect((await request(a, { op: 'settle' })).value).toEqual(Array(10).fill(slow))
    // a slot is free again: the next call goes through (answered at once, released below)
    await nextGoesThrough('mc', 'the next request')
  })

  it('retry_budget: 3 retries in flight from one worker use up the budget for every worker', async () => {
    const a = children[0]!
    // 10 calls: each fails on level 1, and only 3 retries fit max(3, 0.1 × in flight)
    const { base, refused } = await holdTen('rb', 3, '3 retries on the slow peer')
    expect(refused).toEqual({ ok: false, error: 'CKP_ERR_RETRY_BUDGET: retry budget exhausted' })
    expect(slowSeen - base).toBe(3)
    release()
    const settled = ((await request(a, { op: 'settle' })).value as unknown[]).sort()
    expect(settled).toEqual([...Array(3).fill(slow), ...Array(7).fill('CKP_ERR_RETRY_BUDGET')].sort())
    // the units came back: the next call retries into level 2 again
    await nextGoesThrough('rb', 'the next retry')
  })

  it('outlier detection: 2 gateway failures seen by one worker eject the peer for every worker', async () => {
    const [a, b] = children as [ChildProcess, ChildProcess]
    const first: unknown[] = []
    // round-robin alternates: bad, fast, bad → the second 502 of the bad peer ejects it
    for (let i = 0; i < 3; i++) first.push((await request(a, { op: 'st', skey: 'od' })).value)
    expect(first).toEqual(['CKP_ERR_TRY_LIMIT', fast, 'CKP_ERR_TRY_LIMIT'])
    const after: unknown[] = []
    for (let i = 0; i < 6; i++) after.push((await request(b, { op: 'st', skey: 'od' })).value)
    expect(after).toEqual(Array(6).fill(fast))
    const st = (await request(b, { op: 'status' })).value as Record<string, { outlier?: { ejections: number; ejected_until: number | null } }[][]>
    const badPeer = st['cls:od']![0]![0]!
    expect(badPeer.outlier?.ejections).toBe(1)
    expect(badPeer.outlier?.ejected_until).toBeGreaterThan(Date.now() / 1000 + 50)
  })
})
