// Heartbeat probes against real servers: redis-server (master, replica with its master down,
// stopped), MariaDB (right and wrong credentials), HTTP peers answering 200 / 502 / hanging,
// TCP connect. Started by test/setup/global.ts (scripts/services.sh) or by this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { probeGeneral, probeHttp, probeMysql, probeRedis, probeCustom } from '@checkups/core/heartbeat'
import { SharedDict } from '@checkups/shdict'
import { KEY } from '@checkups/core'
import { createHeartbeat } from '@checkups/core/heartbeat'
import { decodeRecord, type HeartbeatRecord } from '@checkups/core'
import { hbView } from './fixtures/heartbeat-config.js'
import { deadPort, httpPeer, SERVICES, startRedis, type HttpPeer, type RedisProc } from './fixtures/heartbeat-servers.js'

const OK = 0, UNSTABLE = 1, ERR = 2
const QUERY = 'GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
const statuses = { '200': true, '502': false }

describe('redis probe (real redis-server)', () => {
  let replica: RedisProc
  let stopped: RedisProc
  beforeAll(async () => {
    replica = await startRedis(['--replicaof', '127.0.0.1', String(await deadPort())])
    stopped = await startRedis()
    await stopped.stop()
  })
  afterAll(async () => { await replica?.stop() })

  it('a master is ok with replication.role = master and redis_version', async () => {
    const r = await probeRedis(SERVICES.redis.host, SERVICES.redis.port, 2000)
    expect(r.status).toBe(OK)
    expect(r.msg).toBeNull()
    expect(r.extras.replication).toMatchObject({ role: 'master' })
    expect(r.extras.redis_version).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('a replica whose master is down is unstable', async () => {
    const r = await probeRedis('127.0.0.1', replica.port, 2000)
    expect(r.status).toBe(UNSTABLE)
    expect(r.msg).toBe('master link status: down')
    expect(r.extras.replication).toMatchObject({ role: 'slave', master_link_status: 'down', master_host: '127.0.0.1' })
    expect(r.extras.redis_version).toBeTypeOf('string')
  })

  it('through a round: a lone replica stays unstable; beside an ok master it becomes err', async () => {
    const shared = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 16) }
    const srv = (port: number) => ({ host: '127.0.0.1', port })
    await createHeartbeat({
      shared, worker: { id: 0, count: 1, pid: 1 },
      getConfig: () => hbView({
        lone: { typ: 'redis', timeout: 2, cluster: [{ servers: [srv(replica.port)] }] },
        pair: { typ: 'redis', timeout: 2, cluster: [{ servers: [srv(replica.port), srv(SERVICES.redis.port)] }] },
        db: { typ: 'mysql', timeout: 5, name: SERVICES.mysql.database, user: SERVICES.mysql.user, pass: SERVICES.mysql.password,
          cluster: [{ servers: [srv(SERVICES.mysql.port)] }] },
      }),
    }).runRound()
    const rec = (skey: string, port: number) =>
      decodeRecord<HeartbeatRecord>(shared.state.get(KEY.peerStatus(skey, '127.0.0.1', port)) as Uint8Array)
    expect(rec('lone', replica.port)).toMatchObject({ status: UNSTABLE, msg: 'master link status: down', replication: { role: 'slave' } })
    expect(rec('pair', replica.port)).toMatchObject({ status: ERR, msg: 'master link status: down' })
    expect(rec('pair', SERVICES.redis.port)).toMatchObject({ status: OK, msg: null, replication: { role: 'master' } })
    expect(rec('db', SERVICES.mysql.port)).toMatchObject({ status: OK, msg: null, fail_num: 0 })
  })

  it('a stopped redis is err with replication: null', async () => {
    const r = await probeRedis('127.0.0.1', stopped.port, 2000)
    expect(r).toEqual({ status: ERR, msg: 'connection refused', extras: { replication: null } })
  })
})

describe('mysql probe (real MariaDB)', () => {
  const ups = { name: SERVICES.mysql.database, user: SERVICES.mysql.user, pass: SERVICES.mysql.password, charset: 'utf8mb4', cluster: [] }
  it('right credentials → ok', async () => {
    expect(await probeMysql(SERVICES.mysql.host, SERVICES.mysql.port, 5000, ups)).toEqual({ status: OK, msg: null, extras: {} })
  })
  it('wrong password → err with the server message', async () => {
    const r = await probeMysql(SERVICES.mysql.host, SERVICES.mysql.port, 5000, { ...ups, pass: 'nope' })
    expect(r.status).toBe(ERR)
    expect(r.msg).toMatch(/^Access denied for user 'checkups'@'(localhost|127\.0\.0\.1)' \(using password: YES\)$/)
  })
  it('unknown database → err with the server message', async () => {
    const r = await probeMysql(SERVICES.mysql.host, SERVICES.mysql.port, 5000, { ...ups, name: 'no_such_db' })
    expect(r.status).toBe(ERR)
    expect(r.msg).toMatch(/no_such_db/)
  })
  it('nothing listening → err', async () => {
    const r = await probeMysql('127.0.0.1', await deadPort(), 5000, ups)
    expect(r).toMatchObject({ status: ERR, msg: 'connection refused' })
  })
})

describe('http and general probes (real loopback servers)', () => {
  const peers: HttpPeer[] = []
  let p200: HttpPeer, p502: HttpPeer, hang: HttpPeer
  beforeAll(async () => {
    peers.push(p200 = await httpPeer(200), p502 = await httpPeer(502), hang = await httpPeer('hang'))
  })
  afterAll(async () => { await Promise.all(peers.map((p) => p.close())) })

  it('200 → ok, 502 → bad status code, hanging past timeout → timeout', async () => {
    const opts = { query: QUERY, statuses }
    expect(await probeHttp('127.0.0.1', p200.port, 2000, opts)).toEqual({ status: OK, msg: null, extras: {} })
    expect(await probeHttp('127.0.0.1', p502.port, 2000, opts)).toEqual({ status: ERR, msg: 'bad status code', extras: {} })
    const t0 = Date.now()
    expect(await probeHttp('127.0.0.1', hang.port, 300, opts)).toEqual({ status: ERR, msg: 'timeout', extras: {} })
    expect(Date.now() - t0).toBeLessThan(10_000)
  })

  it('without statuses any response is ok; without query a connect is enough', async () => {
    expect((await probeHttp('127.0.0.1', p502.port, 2000, { query: QUERY })).status).toBe(OK)
    const before = hang.hits
    expect((await probeHttp('127.0.0.1', hang.port, 2000, { query: null, statuses })).status).toBe(OK)
    expect(hang.hits).toBe(before)
  })

  it('a peer that closes without a status line → closed', async () => {
    const net = await import('node:net')
    const conns = new Set<import('node:net').Socket>()
    const s = net.createServer((c) => { conns.add(c); c.end() })
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    const port = (s.address() as import('node:net').AddressInfo).port
    expect(await probeHttp('127.0.0.1', port, 2000, { query: QUERY, statuses })).toEqual({ status: ERR, msg: 'closed', extras: {} })
    for (const c of conns) c.destroy()
    s.close()
  })

  it('general: connect ok / connection refused', async () => {
    expect((await probeGeneral('127.0.0.1', p200.port, 2000)).status).toBe(OK)
    expect(await probeGeneral('127.0.0.1', await deadPort(), 2000)).toEqual({ status: ERR, msg: 'connection refused', extras: {} })
  })

  it('custom: a throw is err with its message; extras are kept', async () => {
    const ups = { cluster: [] }
    expect(await probeCustom(() => { throw new Error('boom') }, 'h', 1, ups)).toEqual({ status: ERR, msg: 'boom', extras: {} })
    expect(await probeCustom(async (h, p) => ({ status: 0, seen: `${h}:${p}` }), 'h', 1, ups))
      .toEqual({ status: OK, msg: null, extras: { seen: 'h:1' } })
  })
})
