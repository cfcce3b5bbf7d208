/**
 * The cluster store behind Redis Sentinel: a master, a replica and 3 sentinels on loopback
 * (started by this test, one group per test). The master is killed, or stopped (SIGSTOP: it
 * keeps its connections open and answers nothing), or killed while a sentinel is stopped; after the sentinels fail over, writes go on
 * to the new master with the next versions (a write refused meanwhile never lands later) and
 * the sync agent follows it with every acknowledged change applied. Then the two answers a
 * refused write can get through Sentinel are told apart: UNSEEDED only from a reachable master
 * without an epoch, UNAVAILABLE whenever no master is known.
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
import { afterAll, describe, expect, it, vi } from 'vitest'
import { ClusterStore, SyncAgent, type ClusterStoreOptions, type LogEntry, type Snapshot } from '@checkups/core'
import { freePort } from '../../../test/fixtures/net.js'

const procs: ChildProcess[] = []
const dirs: string[] = []

/** Every server's log so far (a failed failover says why: elections, promotion, links). */
const output = new Map<ChildProcess, string>()
const logs = (ps: ChildProcess[]) => ps.map((p) => `--- ${p.spawnargs.slice(1, 3).join(' ')}\n${output.get(p)?.slice(-3000)}`).join('\n')

function start(args: string[], ready: string): Promise<ChildProcess> {
  const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] })
  procs.push(p)
  output.set(p, '')
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis did not print "${ready}": ${output.get(p)!.slice(-500)}`)), 15_000)
    p.stdout!.on('data', (d: Buffer) => { output.set(p, output.get(p) + d.toString()); if (output.get(p)!.includes(ready)) { clearTimeout(t); resolve(p) } })
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

interface Group { master: ChildProcess; replica: ChildProcess; all: ChildProcess[]; ports: { master: number; replica: number; sentinels: number[] }; opts(extra?: Partial<ClusterStoreOptions>): ClusterStoreOptions }

/** A master, its replica and 3 sentinels monitoring them as `ck`, ready to fail over. */
async function group(): Promise<Group> {
  const dir = mkdtempSync(join(tmpdir(), 'checkups-sentinel-'))
  dirs.push(dir)
  const ports = { master: await freePort(), replica: await freePort(), sentinels: [] as number[] }
  // each server in its own directory: a replica's full sync writes an RDB file there
  const common = (name: string) => {
    const d = join(dir, name)
    mkdirSync(d)
    return ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', d]
  }
  const master = await start(['--port', String(ports.master), ...common('master')], 'Ready to accept')
  const replica = await start(['--port', String(ports.replica), ...common('replica'), '--replicaof', '127.0.0.1', String(ports.master)], 'MASTER <-> REPLICA sync: Finished')
  const all = [master, replica]
  for (let i = 0; i < 3; i++) {
    const port = await freePort()
    ports.sentinels.push(port)
    const conf = join(dir, `sentinel-${i}.conf`)
    writeFileSync(conf, [
      `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
      `sentinel monitor ck 127.0.0.1 ${ports.master} 2`,
      'sentinel down-after-milliseconds ck 1000', 'sentinel failover-timeout ck 5000', 'sentinel parallel-syncs ck 1', '',
    ].join('\n'))
    all.push(await start([conf, '--sentinel'], 'Sentinel ID is'))
  }
  // a failover needs sentinels that know the replica and each other (hello messages, every
  // 2 s): until then a killed master is only noticed, never replaced
  for (const port of ports.sentinels) {
    await vi.waitFor(async () => {
      expect(await sentinelCount(port, 'replicas')).toBe(1)
      expect(await sentinelCount(port, 'sentinels')).toBe(2)
    }, { timeout: 15_000, interval: 100 })
  }
  const opts = (extra: Partial<ClusterStoreOptions> = {}): ClusterStoreOptions => ({
    redis: { sentinels: ports.sentinels.map((port) => ({ host: '127.0.0.1', port })), name: 'ck' }, namespace: 'sent', ...extra,
  })
  return { master, replica, all, ports, opts }
}

afterAll(() => {
  for (const p of procs) p.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/**
 * 20 writes, the master taken down by `signal`, 20 more writes: refused (UNAVAILABLE, never
 * silently local) until the new master is found, then accepted with the next versions; the
 * agent ends with every acknowledged change.
 */
async function failover(g: Group, signal: NodeJS.Signals, stopFirstSentinel = false): Promise<void> {
  const store = new ClusterStore(g.opts())
  const applied = new Map<string, unknown>()
  const agent = new SyncAgent(new ClusterStore(g.opts()), {
    applySnapshot: (s: Snapshot) => { applied.clear(); for (const [k, v] of Object.entries(s.upstreams)) applied.set(k, v.config) },
    applyChange: (e: LogEntry) => { if (e.op === 'put') applied.set(e.skey, e.config); else applied.delete(e.skey) },
  }, { blockMs: 300 })
  try {
    await store.seed({})
    agent.start()
    const acked = new Map<string, number>()
    let last = 0
    for (let i = 0; i < 20; i++) { last = (await store.put(`k${i}`, { n: i })).version; acked.set(`k${i}`, i) }
    // the replica has every acknowledged change before its master goes (see the top)
    const offset = await replInfo(g.ports.master, 'master_repl_offset')
    await expect.poll(() => replInfo(g.ports.replica, 'slave_repl_offset'), { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(offset)
    if (stopFirstSentinel) g.all[2]!.kill('SIGSTOP') // the sentinel the links asked first
    g.master.kill(signal)
    let refused = 0
    const versions: number[] = []
    const deadline = Date.now() + 30_000
    for (let i = 20; i < 40 && Date.now() < deadline;) {
      const r = await store.put(`k${i}`, { n: i }).catch((err: { code?: string; message?: string }) => err)
      if ('version' in r) {
        versions.push(r.version)
        acked.set(`k${i++}`, i - 1)
      } else {
        expect(`${r.code} ${r.message}`).toMatch(/^CKP_ERR_STORE_UNAVAILABLE /)
        refused++
        await sleep(200)
      }
    }
    // the new master continues the old one's versions: nothing lost, nothing doubled
    expect(versions, logs(g.all)).toEqual(Array.from({ length: 20 }, (_, k) => last + 1 + k))
    last = versions.at(-1) ?? last
    expect(acked.size).toBe(40)
    expect(refused).toBeGreaterThan(0)
    await expect.poll(() => agent.status().applied >= last, { timeout: 20_000, interval: 100 }).toBe(true)
    for (const [k, n] of acked) expect(applied.get(k)).toEqual({ n })
  } finally {
    await agent.stop()
    await store.close()
  }
}

describe('cluster store behind Redis Sentinel', () => {
  it('a killed master: writes continue after the failover and the agent applies every acknowledged change', async () => {
    await failover(await group(), 'SIGKILL')
  }, 90_000)

  // the link to a stopped master stays open (no close, no reset): only the sentinels'
  // +switch-master notice tells the store to look for the new master
  it('a master that stops answering without closing: the store and the agent move to the new master', async () => {
    await failover(await group(), 'SIGSTOP')
  }, 90_000)

  // every reconnection asks the stopped sentinel first: it must give up on it (a bounded
  // lookup) and ask the others, and a +switch-master arriving meanwhile must not end the link
  it('a killed master while the first sentinel is stopped: the others lead the store to the new master', async () => {
    await failover(await group(), 'SIGKILL', true)
  }, 90_000)

  it('UNSEEDED only from a reachable master without an epoch; no master known → UNAVAILABLE', async () => {
    const g = await group()
    const opts = (extra: Partial<ClusterStoreOptions> = {}) => g.opts({ commandTimeout: 500, ...extra })
    const store = new ClusterStore(opts())
    const agent = new SyncAgent(new ClusterStore(opts()), { applySnapshot: () => {}, applyChange: () => {} }, { blockMs: 300 })
    const unknown = new ClusterStore(opts({ redis: { sentinels: [{ host: '127.0.0.1', port: g.ports.sentinels[0]! }], name: 'not-monitored' } }))
    const noSentinel = new ClusterStore(opts({ redis: { sentinels: [{ host: '127.0.0.1', port: await freePort() }], name: 'ck' } }))
    try {
      // the master, reachable and empty
      await expect.poll(() => putCode(store, 'x'), { timeout: 10_000, interval: 100 }).toBe('CKP_ERR_STORE_UNSEEDED')
      await expect(store.put('x', {})).rejects.toThrow(`(server 127.0.0.1:${g.ports.master})`) // the one that answered
      agent.start()
      await expect.poll(() => agent.status().link, { timeout: 10_000, interval: 50 }).toBe('unseeded')

      // no server left to be a master: every write (and read) is UNAVAILABLE, never UNSEEDED
      g.master.kill('SIGKILL')
      g.replica.kill('SIGKILL')
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
  }, 90_000)
})
