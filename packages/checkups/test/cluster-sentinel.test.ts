/**
 * The cluster store behind Redis Sentinel: a master, a replica and 3 sentinels on loopback
 * (started by this test). The master is killed; after the sentinels fail over, writes go on
 * to the new master and the sync agent follows it with every acknowledged change applied.
 * Then the two answers a refused write can get through Sentinel are told apart: UNSEEDED only
 * from a reachable master without an epoch, UNAVAILABLE whenever no master is known.
 *
 * Replication is asynchronous, so the test kills the master only once the replica has every
 * acknowledged change (its replication offset caught up with the master's). Without that wait
 * the test raced Redis itself: with diskless sync (the default since Redis 7) the replica
 * prints "MASTER <-> REPLICA sync: Finished" before the master streams anything to it — the
 * master holds the stream until the replica's next REPLCONF ACK, up to a second later
 * ("Waiting for REPLCONF ACK from slave to enable streaming" in its log). A master killed in
 * that second took every change with it, the promoted replica had no epoch, and the first
 * write after the failover was (rightly) answered CKP_ERR_STORE_UNSEEDED.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ClusterStore, SyncAgent, type ClusterStoreOptions, type LogEntry, type Snapshot } from '@checkups/core'
import { freePort } from '../../../test/fixtures/net.js'

const procs: ChildProcess[] = []
let dir: string

function start(args: string[], ready: string): Promise<ChildProcess> {
  const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] })
  procs.push(p)
  return new Promise((resolve, reject) => {
    let out = ''
    const t = setTimeout(() => reject(new Error(`redis did not print "${ready}": ${out.slice(-500)}`)), 15_000)
    p.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes(ready)) { clearTimeout(t); resolve(p) } })
  })
}

/** Runs `fn` on a short-lived connection to 127.0.0.1:port. */
async function on<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000 })
  r.on('error', () => {})
  try { return await fn(r) } finally { r.disconnect() }
}

/** One numeric field of `INFO replication`. */
const replInfo = (port: number, field: string) =>
  on(port, async (r) => Number((await r.info('replication')).match(new RegExp(`^${field}:(\\d+)`, 'm'))?.[1] ?? NaN))

const sentinelCount = (port: number, what: 'replicas' | 'sentinels') =>
  on(port, async (r) => ((await r.call('SENTINEL', what, 'ck')) as unknown[]).length)

const putCode = (store: ClusterStore, skey: string) =>
  store.put(skey, { n: 0 }).then(() => 'accepted', (err: { code?: string }) => err.code)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('cluster store behind Redis Sentinel', () => {
  let master: ChildProcess
  let replica: ChildProcess
  const ports = { master: 0, replica: 0, sentinels: [] as number[] }
  const opts = (extra: Partial<ClusterStoreOptions> = {}): ClusterStoreOptions => ({
    redis: { sentinels: ports.sentinels.map((port) => ({ host: '127.0.0.1', port })), name: 'ck' }, namespace: 'sent', ...extra,
  })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-sentinel-'))
    ports.master = await freePort()
    ports.replica = await freePort()
    // each server in its own directory: a replica's full sync writes an RDB file there
    const common = (name: string) => {
      const d = join(dir, name)
      mkdirSync(d)
      return ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', d]
    }
    master = await start(['--port', String(ports.master), ...common('master')], 'Ready to accept')
    replica = await start(['--port', String(ports.replica), ...common('replica'), '--replicaof', '127.0.0.1', String(ports.master)], 'MASTER <-> REPLICA sync: Finished')
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      ports.sentinels.push(port)
      const conf = join(dir, `sentinel-${i}.conf`)
      writeFileSync(conf, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ck 127.0.0.1 ${ports.master} 2`,
        'sentinel down-after-milliseconds ck 1000', 'sentinel failover-timeout ck 5000', 'sentinel parallel-syncs ck 1', '',
      ].join('\n'))
      await start([conf, '--sentinel'], 'Sentinel ID is')
    }
    // a failover needs sentinels that know the replica and each other (hello messages, every
    // 2 s): until then a killed master is only noticed, never replaced
    for (const port of ports.sentinels) {
      await vi.waitFor(async () => {
        expect(await sentinelCount(port, 'replicas')).toBe(1)
        expect(await sentinelCount(port, 'sentinels')).toBe(2)
      }, { timeout: 15_000, interval: 100 })
    }
  })

  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('writes continue after a failover and the agent applies every acknowledged change', async () => {
    const store = new ClusterStore(opts())
    const applied = new Map<string, unknown>()
    const agent = new SyncAgent(new ClusterStore(opts()), {
      applySnapshot: (s: Snapshot) => { applied.clear(); for (const [k, v] of Object.entries(s.upstreams)) applied.set(k, v.config) },
      applyChange: (e: LogEntry) => { if (e.op === 'put') applied.set(e.skey, e.config); else applied.delete(e.skey) },
    }, { blockMs: 300 })
    try {
      await store.seed({})
      agent.start()
      const acked = new Map<string, number>()
      let last = 0
      for (let i = 0; i < 20; i++) { last = (await store.put(`k${i}`, { n: i })).version; acked.set(`k${i}`, i) }
      // the replica has every acknowledged change before its master dies (see the top)
      const offset = await replInfo(ports.master, 'master_repl_offset')
      await expect.poll(() => replInfo(ports.replica, 'slave_repl_offset'), { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(offset)
      master.kill('SIGKILL')
      // writes are refused (never silently local) until the new master is there, then accepted
      let refused = 0
      const deadline = Date.now() + 30_000
      for (let i = 20; i < 40 && Date.now() < deadline;) {
        try {
          const v = (await store.put(`k${i}`, { n: i })).version
          expect(v).toBe(last + 1) // the new master continues the old one's versions: nothing lost
          last = v
          acked.set(`k${i}`, i)
          i++
        } catch (err) {
          expect((err as { code?: string }).code).toBe('CKP_ERR_STORE_UNAVAILABLE')
          refused++
          await sleep(200)
        }
      }
      expect(acked.size).toBe(40)
      expect(refused).toBeGreaterThan(0)
      await expect.poll(() => agent.status().applied >= last, { timeout: 20_000, interval: 100 }).toBe(true)
      for (const [k, n] of acked) expect(applied.get(k)).toEqual({ n })
    } finally {
      await agent.stop()
      await store.close()
    }
  }, 60_000)

  it('UNSEEDED only from a reachable master without an epoch; no master known → UNAVAILABLE', async () => {
    const store = new ClusterStore(opts({ commandTimeout: 500 }))
    const agent = new SyncAgent(new ClusterStore(opts({ commandTimeout: 500 })), { applySnapshot: () => {}, applyChange: () => {} }, { blockMs: 300 })
    const unknown = new ClusterStore({ ...opts({ commandTimeout: 500 }), redis: { sentinels: [{ host: '127.0.0.1', port: ports.sentinels[0]! }], name: 'not-monitored' } })
    const noSentinel = new ClusterStore({ ...opts({ commandTimeout: 500 }), redis: { sentinels: [{ host: '127.0.0.1', port: await freePort() }], name: 'ck' } })
    try {
      // whichever server is the master now (the replica after the failover above), flushed
      const [, port] = await on(ports.sentinels[0]!, (r) => r.call('SENTINEL', 'get-master-addr-by-name', 'ck')) as [string, string]
      await on(Number(port), (r) => r.flushall())
      await expect.poll(() => putCode(store, 'x'), { timeout: 10_000, interval: 100 }).toBe('CKP_ERR_STORE_UNSEEDED')
      await expect(store.put('x', {})).rejects.toThrow(`(server 127.0.0.1:${port})`) // the one that answered
      agent.start()
      await expect.poll(() => agent.status().link, { timeout: 10_000, interval: 50 }).toBe('unseeded')

      // no server left to be a master: every write (and read) is UNAVAILABLE, never UNSEEDED
      master.kill('SIGKILL')
      replica.kill('SIGKILL')
      await expect.poll(() => agent.status().link, { timeout: 10_000, interval: 50 }).toBe('down')
      for (let i = 0; i < 3; i++) {
        expect(await putCode(store, `y${i}`)).toBe('CKP_ERR_STORE_UNAVAILABLE')
        await sleep(100)
      }
      await expect(store.head()).rejects.toMatchObject({ code: 'CKP_ERR_STORE_UNAVAILABLE' })
      await expect(store.seed({})).rejects.toMatchObject({ code: 'CKP_ERR_STORE_UNAVAILABLE' })
      // a master name the sentinels do not monitor, and no sentinel at all
      expect(await putCode(unknown, 'z')).toBe('CKP_ERR_STORE_UNAVAILABLE')
      expect(await putCode(noSentinel, 'z')).toBe('CKP_ERR_STORE_UNAVAILABLE')
    } finally {
      await agent.stop()
      for (const s of [store, unknown, noSentinel]) await s.close()
    }
  }, 60_000)
})
