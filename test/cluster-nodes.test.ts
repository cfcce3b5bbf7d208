// Many nodes, one upstream configuration: three real `node apps/server` instances on
// loopback (each its own ports and state dir) share `global.cluster_store` — a redis-server
// this file starts itself on its own free port and --dir (it SIGSTOPs and SIGKILLs it, so
// never the shared one). Real traffic goes through every node's proxy; nothing is mocked.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, SERVER_ENTRY, freePort, request, sleep, type Reply } from './fixtures/admin-server.js'

const NS = 'nodes'
let redisPort = 0
let redisDir = ''
let redisProc: ChildProcess | undefined
let redis: Redis | undefined
const backends: Server[] = []
const ports: number[] = []
const nodes: AdminServer[] = []
let [A, B, C] = [] as unknown as [AdminServer, AdminServer, AdminServer]

/** redis-server in the foreground on its own port and dir, append-only so a restart keeps the store. */
async function startRedis(): Promise<void> {
  const proc = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '',
    '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'no'], { stdio: 'ignore' })
  redisProc = proc
  for (let i = 0; i < 200; i++) {
    const r = spawnSync('redis-cli', ['-p', String(redisPort), 'PING'], { encoding: 'utf8' })
    if (r.stdout.trim() === 'PONG') return
    await sleep(25)
  }
  throw new Error('redis-server did not start')
}

async function killRedis(): Promise<void> {
  const p = redisProc
  if (!p || p.exitCode !== null || p.signalCode !== null) return
  const gone = new Promise((r) => p.once('exit', r))
  p.kill('SIGCONT')
  p.kill('SIGKILL')
  await gone
}

const upstream = (...ps: number[]) => ({ timeout: 2, cluster: [{ servers: ps.map((port) => ({ host: '127.0.0.1', port })) }] })
const portsOf = (body: unknown): number[] =>
  ((body as { cluster: Array<{ servers: Array<{ port: number }> }> }).cluster[0]?.servers ?? []).map((s) => s.port)

type Link = { link: string; applied: number; store_version: number; lag: number; epoch: string | null; since: number; last_error: string | null; resyncs: number }
const link = async (n: AdminServer): Promise<Link> => ((await n.get('/status')).body as { cluster_store: Link }).cluster_store

/** Polls until `ok` holds (bounded); returns the last value. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let v: T
  do {
    v = await read()
    if (ok(v)) return v
    await sleep(20)
  } while (Date.now() < deadline)
  throw new Error(`${what}: still ${JSON.stringify(v)}`)
}

/** Ports the node's proxy answers with over `n` real requests (the backends answer their port). */
async function served(node: AdminServer, n = 6): Promise<Set<number>> {
  const seen = new Set<number>()
  for (let i = 0; i < n; i++) {
    const r = await request(node.proxyPort, 'GET', '/', { timeout: 10_000 })
    if (r.status === 200) seen.add(Number(r.text))
  }
  return seen
}

const put = (n: AdminServer, skey: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
  n.send('PUT', `/upstreams/${skey}`, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, timeout: 20_000 })

const seed = (node: AdminServer, ...extra: string[]) =>
  spawnSync(process.execPath, [SERVER_ENTRY, 'seed-store', '--config', node.configFile, ...extra], { encoding: 'utf8', timeout: 20_000 })

beforeAll(async () => {
  redisPort = await freePort()
  redisDir = mkdtempSync(join(tmpdir(), 'ckp-redis-'))
  await startRedis()
  redis = new Redis({ port: redisPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 2 })
  redis.on('error', () => {})
  for (let i = 0; i < 6; i++) {
    const s = createServer((req, res) => { req.resume(); res.end(String((s.address() as { port: number }).port)) })
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    backends.push(s)
    ports.push((s.address() as { port: number }).port)
  }
  for (let i = 0; i < 3; i++) {
    nodes.push(new AdminServer({
      workers: 2,
      upstreams: { api: upstream(ports[0]!) },
      global: { cluster_store: { redis: `redis://127.0.0.1:${redisPort}`, namespace: NS } },
      server: { routes: [{ path_prefix: '/', upstream: 'api' }] },
    }))
  }
  ;[A, B, C] = nodes as [AdminServer, AdminServer, AdminServer]
  await Promise.all(nodes.map((n) => n.start()))
}, 90_000)

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.dispose()))
  redis?.disconnect()
  await killRedis()
  for (const s of backends) s.closeAllConnections(), s.close()
  if (redisDir) rmSync(redisDir, { recursive: true, force: true })
})

describe('nodes sharing one cluster store', () => {
  it('an unseeded store changes nothing and refuses writes; seed-store seeds it once (then CKP_ERR_STORE_SEEDED)', async () => {
    for (const n of nodes) expect((await until('unseeded', () => link(n), (l) => l.link === 'unseeded')).applied).toBe(0)
    const refused = await put(A, 'api', upstream(ports[1]!))
    expect(refused.status).toBe(503)
    expect((refused.body as { error: { code: string } }).error.code).toBe('CKP_ERR_STORE_UNSEEDED')
    expect(refused.headers['retry-after']).toBeDefined()
    expect([...(await served(A))]).toEqual([ports[0]])

    const first = seed(A)
    expect(first.status, first.stderr).toBe(0)
    const again = seed(B)
    expect(again.status).toBe(1)
    expect(again.stderr).toContain('CKP_ERR_STORE_SEEDED')
    for (const n of nodes) await until('link up', () => link(n), (l) => l.link === 'up' && l.lag === 0)
  })

  it('PUT on A: B and C serve it (admin and real traffic)', async () => {
    const r = await put(A, 'api', upstream(ports[1]!, ports[2]!))
    expect(r.status).toBe(200)
    const sv = (r.body as { store_version: number }).store_version
    expect(r.body).toMatchObject({ ok: true, applied: true })
    expect(r.headers['etag']).toBe(`"${sv}"`)
    expect([...(await served(A))].sort()).toEqual([ports[1], ports[2]].sort())
    for (const n of [B, C]) {
      await until('applied', () => link(n), (l) => l.applied >= sv)
      expect(portsOf((await n.get('/upstreams/api')).body)).toEqual([ports[1], ports[2]])
      expect([...(await served(n))].sort()).toEqual([ports[1], ports[2]].sort())
    }
    // a per-server change on C (built from the store's copy) reaches A
    const add = await C.send('POST', '/upstreams/api/servers', { body: JSON.stringify({ host: '127.0.0.1', port: ports[5] }), headers: { 'content-type': 'application/json' } })
    expect(add.status, add.text).toBe(201)
    await until('applied on A', () => link(A), (l) => l.applied >= (add.body as { store_version: number }).store_version)
    expect(portsOf((await A.get('/upstreams/api')).body)).toEqual([ports[1], ports[2], ports[5]])
    const del = await A.send('DELETE', `/upstreams/api/servers/127.0.0.1:${ports[5]}`)
    expect(del.status, del.text).toBe(200)
    await until('applied on C', () => link(C), (l) => l.applied >= (del.body as { store_version: number }).store_version)
    expect(portsOf((await C.get('/upstreams/api')).body)).toEqual([ports[1], ports[2]])
  })

  it('Redis stopped (SIGSTOP, then SIGKILL): every node keeps proxying, writes are 503 + Retry-After; restarted, a write on B reaches A and C', async () => {
    redisProc!.kill('SIGSTOP')
    const r = await put(A, 'api', upstream(ports[3]!))
    expect(r.status).toBe(503)
    expect((r.body as { error: { code: string } }).error.code).toBe('CKP_ERR_STORE_UNAVAILABLE')
    expect(r.headers['retry-after']).toBe('1')
    for (const n of nodes) expect([...(await served(n))].sort()).toEqual([ports[1], ports[2]].sort())
    await killRedis()
    for (const n of nodes) await until('link down', () => link(n), (l) => l.link === 'down')
    for (const n of nodes) expect([...(await served(n))].sort()).toEqual([ports[1], ports[2]].sort())
    expect((await put(B, 'api', upstream(ports[3]!))).status).toBe(503)
    // a node that starts while the store is down serves its own state file
    await C.stop()
    await C.start()
    expect((await link(C)).link).not.toBe('up')
    expect([...(await served(C))].sort()).toEqual([ports[1], ports[2]].sort())
    await startRedis()
    await until('link back', () => link(B), (l) => l.link === 'up')
    const w = await put(B, 'api', upstream(ports[3]!))
    expect(w.status, w.text).toBe(200)
    const sv = (w.body as { store_version: number }).store_version
    for (const n of [A, C]) {
      await until('applied', () => link(n), (l) => l.applied >= sv)
      expect([...(await served(n))]).toEqual([ports[3]])
    }
  }, 60_000)

  it('CLIENT KILL TYPE normal while nodes write: no change is lost', async () => {
    const writes: Array<Promise<Reply>> = []
    const retrying = async (n: AdminServer, skey: string, p: number): Promise<Reply> => {
      for (let i = 0; i < 50; i++) {
        const r = await put(n, skey, upstream(p))
        if (r.status !== 503) return r
        await sleep(50)
      }
      throw new Error(`${skey}: still 503`)
    }
    await redis!.connect().catch(() => undefined)
    for (let i = 0; i < 6; i++) {
      writes.push(retrying(nodes[i % 3]!, `k${i}`, ports[i]!))
      if (i % 2 === 1) await redis!.client('KILL', 'TYPE', 'normal').catch(() => undefined)
    }
    const answers = await Promise.all(writes)
    for (const a of answers) expect(a.status, a.text).toBe(200)
    const top = Math.max(...answers.map((a) => (a.body as { store_version: number }).store_version))
    for (const n of nodes) {
      await until('applied', () => link(n), (l) => l.applied >= top)
      const all = (await n.get('/upstreams')).body as Record<string, unknown>
      for (let i = 0; i < 6; i++) expect(portsOf(all[`k${i}`])).toEqual([ports[i]])
    }
  }, 30_000)

  it('a stream trimmed past a paused node\'s cursor: that node resyncs fully', async () => {
    const before = await link(C)
    process.kill(C.proc!.pid!, 'SIGSTOP') // the primary (its sync agent); workers keep serving
    try {
      // the first change may already sit in C's socket (its blocked XREAD was answered);
      // the second one only the log has — and the log is emptied
      expect((await put(A, 'api', upstream(ports[4]!))).status).toBe(200)
      expect((await put(A, 'api', upstream(ports[4]!, ports[5]!))).status).toBe(200)
      await redis!.xtrim(`{ck:${NS}}:log`, 'MAXLEN', 0)
    } finally {
      process.kill(C.proc!.pid!, 'SIGCONT')
    }
    const after = await until('resynced', () => link(C), (l) => l.resyncs > before.resyncs && l.lag === 0)
    expect(after.link).toBe('up')
    expect([...(await served(C, 8))].sort()).toEqual([ports[4], ports[5]].sort())
  }, 30_000)

  it('concurrent If-Match writes of one revision: exactly one wins, the others are 409 CKP_ERR_STORE_CONFLICT', async () => {
    const g = await A.get('/upstreams/api')
    const etag = String(g.headers['etag'])
    const answers = await Promise.all(nodes.map((n, i) => put(n, 'api', upstream(ports[i]!), { 'if-match': etag })))
    const statuses = answers.map((a) => a.status).sort()
    expect(statuses).toEqual([200, 409, 409])
    for (const a of answers.filter((x) => x.status === 409)) expect((a.body as { error: { code: string } }).error.code).toBe('CKP_ERR_STORE_CONFLICT')
  })

  it('a reload of one node (its file edited) ends in a resync: the store\'s upstreams win', async () => {
    const store = portsOf((await A.get('/upstreams/api')).body)
    const before = await link(B)
    ;(B.opts.upstreams as Record<string, unknown>)['api'] = upstream(ports[0]!, ports[1]!, ports[2]!)
    await B.writeConfig()
    const mark = B.output.length
    B.signal('SIGHUP')
    await until('reload done', async () => B.output.slice(mark), (out) => out.includes('"reload done"'), 30_000)
    await until('resynced', () => link(B), (l) => l.resyncs > before.resyncs && l.link === 'up')
    expect(portsOf((await B.get('/upstreams/api')).body)).toEqual(store)
    expect([...(await served(B, 8))].sort()).toEqual([...store].sort())
  }, 40_000)

  it('FLUSHALL: every node keeps its configuration, reports the store unseeded and refuses writes', async () => {
    const kept = portsOf((await A.get('/upstreams/api')).body)
    await redis!.flushall()
    for (const n of nodes) {
      await until('unseeded', () => link(n), (l) => l.link === 'unseeded')
      expect(portsOf((await n.get('/upstreams/api')).body)).toEqual(kept)
      expect([...(await served(n))]).toEqual(kept)
    }
    const r = await put(B, 'api', upstream(ports[0]!))
    expect(r.status).toBe(503)
    expect((r.body as { error: { code: string } }).error.code).toBe('CKP_ERR_STORE_UNSEEDED')
    const metrics = (await B.get('/metrics')).text
    expect(metrics).toContain('checkups_cluster_store_link{link="unseeded"} 1')
    expect(metrics).toContain('checkups_cluster_store_link{link="up"} 0')
  }, 30_000)
})

describe('seed-store refusals', () => {
  const cli = (file: string, ...extra: string[]) =>
    spawnSync(process.execPath, [SERVER_ENTRY, 'seed-store', '--config', file, ...extra], { encoding: 'utf8', timeout: 20_000 })
  const config = (global: unknown): string => {
    const file = join(redisDir, `seed-${Math.random().toString(36).slice(2)}.mjs`)
    writeFileSync(file, `export default ${JSON.stringify({ global, api: upstream(1) })}\n`)
    return file
  }

  it('a config without global.cluster_store: exit 1, named; a bad flag: exit 2; Redis unreachable: exit 1 CKP_ERR_STORE_UNAVAILABLE', async () => {
    const none = cli(config({}))
    expect(none.status).toBe(1)
    expect(none.stderr).toContain('has no global.cluster_store')
    const flag = cli(config({}), '--forse')
    expect(flag.status).toBe(2)
    expect(flag.stderr).toContain('--forse')
    const down = cli(config({ cluster_store: { redis: `redis://127.0.0.1:${await freePort()}` } }))
    expect(down.status).toBe(1)
    expect(down.stderr).toContain('CKP_ERR_STORE_UNAVAILABLE')
  })
})
