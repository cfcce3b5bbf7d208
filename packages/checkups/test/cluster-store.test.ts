/**
 * The cluster store and the sync agent against a real redis-server (started by this test on
 * its own port): ordered application of every change, If-Match races, a killed sync
 * connection, a stream trimmed past the cursor, FLUSHALL, a stopped server.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ClusterStore, SyncAgent, type LogEntry, type Snapshot, type SyncTarget } from '@checkups/core'
import { freePort } from '../../../test/fixtures/net.js'

let port: number
let server: ChildProcess
let admin: Redis

async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise<void>((resolve) => {
    let out = ''
    server.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('Ready to accept')) resolve() })
  })
}

beforeAll(async () => {
  port = await freePort()
  await startRedis()
  admin = new Redis({ port, host: '127.0.0.1' })
})
afterAll(async () => {
  admin.disconnect()
  server.kill('SIGKILL')
})

/** A node's upstreams as a plain map, applied the way the node applies them. */
class Target implements SyncTarget {
  ups = new Map<string, unknown>()
  snapshots = 0
  gate: Promise<void> | undefined
  applySnapshot(s: Snapshot): void {
    this.snapshots++
    this.ups = new Map(Object.entries(s.upstreams).map(([k, v]) => [k, v.config]))
  }
  async applyChange(e: LogEntry): Promise<void> {
    if (this.gate) await this.gate
    if (e.op === 'put') this.ups.set(e.skey, e.config)
    else if (e.op === 'del') this.ups.delete(e.skey)
  }
}

const open: Array<{ stop?(): Promise<void>; close?(): Promise<void> }> = []
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await (x.stop ?? x.close)!.call(x)
  await admin.flushall()
})

function node(ns: string) {
  const store = new ClusterStore({ redis: `redis://127.0.0.1:${port}`, namespace: ns })
  const target = new Target()
  const agent = new SyncAgent(store, target, { blockMs: 300 })
  open.push(store, agent)
  return { store, target, agent }
}

const cfg = (p: number) => ({ cluster: [{ servers: [{ host: '127.0.0.1', port: p }] }] })

describe('cluster store', () => {
  it('refuses writes until seeded, then applies every change in order on every node', async () => {
    const a = node('t1')
    const b = node('t1')
    await expect(a.store.put('api', cfg(1))).rejects.toMatchObject({ code: 'CKP_ERR_STORE_UNSEEDED' })
    await a.store.seed({ api: cfg(1), web: cfg(2) })
    await expect(b.store.seed({})).rejects.toMatchObject({ code: 'CKP_ERR_STORE_SEEDED' })
    a.agent.start()
    b.agent.start()
    let last = 0
    for (let i = 0; i < 50; i++) last = (await (i % 2 ? a : b).store.put(`u${i % 5}`, cfg(100 + i))).version
    await b.store.delete('web')
    last++
    expect(await a.agent.waitApplied(last, 5000)).toBe(true)
    expect(await b.agent.waitApplied(last, 5000)).toBe(true)
    const snap = await a.store.snapshot()
    const truth = new Map(Object.entries(snap.upstreams).map(([k, v]) => [k, v.config]))
    expect(a.target.ups).toEqual(truth)
    expect(b.target.ups).toEqual(truth)
    expect(truth.has('web')).toBe(false)
    expect(truth.get('u4')).toEqual(cfg(149))
    expect(a.agent.status()).toMatchObject({ link: 'up', applied: last, lag: 0 })
  })

  it('If-Match: of concurrent writes naming the same revision exactly one wins', async () => {
    const a = node('t2')
    await a.store.seed({ api: cfg(1) })
    const rev = (await a.store.snapshot()).upstreams.api!.rev
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => a.store.put('api', cfg(10 + i), rev)))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
    expect(lost.map((r) => (r.reason as { code: string }).code)).toEqual(Array(9).fill('CKP_ERR_STORE_CONFLICT'))
  })

  it('a killed sync connection loses no change', async () => {
    const a = node('t3')
    await a.store.seed({})
    a.agent.start()
    let last = 0
    for (let i = 0; i < 100; i++) {
      last = (await a.store.put(`k${i}`, cfg(i))).version
      if (i % 25 === 10) {
        // the agent's connection (after the previous kill, once it has reconnected)
        const syncId = async () => /id=(\d+) [^\n]*name=checkups-sync:t3/.exec(String(await admin.client('LIST')))?.[1]
        await expect.poll(syncId, { timeout: 5000 }).toBeDefined()
        await admin.client('KILL', 'ID', (await syncId())!)
      }
    }
    expect(await a.agent.waitApplied(last, 10_000)).toBe(true)
    expect(a.target.ups.size).toBe(100)
  })

  it('a stream trimmed past the cursor forces a full resync with the right result', async () => {
    const a = node('t4')
    const w = node('t4')
    await a.store.seed({})
    a.agent.start()
    expect(await a.agent.waitApplied(1, 5000)).toBe(true)
    let open1!: () => void
    a.target.gate = new Promise<void>((r) => { open1 = r })
    let last = 0
    for (let i = 0; i < 30; i++) last = (await w.store.put(`k${i % 7}`, cfg(i))).version
    await admin.xtrim(a.store.keys.log, 'MAXLEN', 0)
    open1()
    a.target.gate = undefined
    expect(await a.agent.waitApplied(last, 5000)).toBe(true)
    const truth = new Map(Object.entries((await a.store.snapshot()).upstreams).map(([k, v]) => [k, v.config]))
    expect(a.target.ups).toEqual(truth)
    expect(a.agent.status().resyncs).toBeGreaterThanOrEqual(2)
  })

  it('FLUSHALL: the node keeps its configuration and reports the store as unseeded', async () => {
    const a = node('t5')
    await a.store.seed({ api: cfg(1) })
    a.agent.start()
    expect(await a.agent.waitApplied(2, 5000)).toBe(true)
    await admin.flushall()
    await expect.poll(() => a.agent.status().link, { timeout: 5000 }).toBe('unseeded')
    expect(a.target.ups).toEqual(new Map([['api', cfg(1)]]))
    await expect(a.store.put('api', cfg(2))).rejects.toMatchObject({ code: 'CKP_ERR_STORE_UNSEEDED' })
    // seeding again is explicit; the node follows the new epoch
    await a.store.seed({ other: cfg(3) })
    await expect.poll(() => a.agent.status().link, { timeout: 5000 }).toBe('up')
    expect(a.target.ups).toEqual(new Map([['other', cfg(3)]]))
  })

  it('a stopped server: writes are refused at once, the node keeps serving, then catches up', async () => {
    const a = node('t6')
    const w = node('t6')
    await a.store.seed({ api: cfg(1) })
    a.agent.start()
    expect(await a.agent.waitApplied(2, 5000)).toBe(true)
    server.kill('SIGSTOP')
    try {
      const t0 = Date.now()
      await expect(w.store.put('api', cfg(2))).rejects.toMatchObject({ code: 'CKP_ERR_STORE_UNAVAILABLE' })
      expect(Date.now() - t0).toBeLessThan(10_000)
      expect(a.target.ups.get('api')).toEqual(cfg(1))
    } finally {
      server.kill('SIGCONT')
    }
    const { version } = await w.store.put('api', cfg(3))
    expect(await a.agent.waitApplied(version, 10_000)).toBe(true)
    expect(a.target.ups.get('api')).toEqual(cfg(3))
  })
})
