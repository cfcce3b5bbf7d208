/** Dynamic upstreams: validation strings, merge rules, versions, propagation. */
import { describe, expect, it } from 'vitest'
import { Lock } from '@checkups/shdict'
import { Checkups, CheckupsError, KEY } from '@checkups/core'
import { makeZones, prepared } from './helpers.js'

const H = '127.0.0.1'
const srv = (port: number, weight = 1) => ({ host: H, port, weight })
const base = { ups1: { mode: 'hash', typ: 'http', try: 2, http_opts: { statuses: { 502: false } }, cluster: [{ servers: [srv(1001)] }] } }

async function err(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (e: CheckupsError) => `${e.code}: ${e.message}`)
}

describe('updateUpstream validation (the original\'s strings)', () => {
  it.each<[string, unknown, string]>([
    ['undefined', undefined, 'CKP_ERR_INVALID_UPSTREAM: can not set empty upstream'],
    ['an empty object', {}, 'CKP_ERR_INVALID_UPSTREAM: can not set empty upstream'],
    ['an empty array', [], 'CKP_ERR_INVALID_UPSTREAM: can not set empty upstream'],
    ['a string', 'x', 'CKP_ERR_INVALID_UPSTREAM: can not set empty upstream'],
    ['cluster not an object', { cluster: 'x' }, 'CKP_ERR_INVALID_UPSTREAM: cluster invalid'],
    ['an empty level', [{}], 'CKP_ERR_INVALID_UPSTREAM: can not update empty level'],
    ['an empty cluster', { cluster: [] }, 'CKP_ERR_INVALID_UPSTREAM: can not update empty level'],
    ['empty servers', [{ servers: [] }], 'CKP_ERR_INVALID_UPSTREAM: servers invalid'],
    ['servers not an array', [{ servers: { a: 1 } }], 'CKP_ERR_INVALID_UPSTREAM: servers invalid'],
    ['a server that is not a table', [{ servers: ['127.0.0.1:80'] }], 'CKP_ERR_INVALID_UPSTREAM: server must be a table'],
    ['a server without port', [{ servers: [{ host: H }] }], 'CKP_ERR_INVALID_UPSTREAM: no server.host nor server.port found'],
    ['a server without host', { dc1: { servers: [{ port: 1 }] } }, 'CKP_ERR_INVALID_UPSTREAM: no server.host nor server.port found'],
    ['schema: bad port', [{ servers: [{ host: H, port: 'x' }] }], 'CKP_ERR_INVALID_UPSTREAM: ups1.cluster[0].servers[0].port: must be an integer 1-65535'],
    ['schema: bad mode', { mode: 'rnd', cluster: [{ servers: [srv(1)] }] }, 'CKP_ERR_INVALID_UPSTREAM: ups1.mode: must be one of wrr, hash, url_hash, ip_hash, header_hash, least_conn, p2c'],
  ])('%s', async (_n, up, expected) => {
    const c = prepared(base)
    expect(await err(c.updateUpstream('ups1', up))).toBe(expected)
    expect(c.getUpstream('ups1')?.cluster).toEqual(prepared(base).getUpstream('ups1')?.cluster)
  })
})

describe('updateUpstream merge rules', () => {
  it('a cluster alone keeps the stored mode/typ/try/http_opts', async () => {
    const c = prepared(base)
    await c.updateUpstream('ups1', [{ servers: [srv(1002)] }])
    const u = c.getUpstream('ups1')!
    expect([u.mode, u.typ, u.try, u.http_opts]).toEqual(['hash', 'http', 2, { query: null, statuses: { 502: false } }])
    expect(c.selectPeer('ups1')).toEqual({ host: H, port: 1002 })
  })

  it('named clusters alone', async () => {
    const c = prepared(base)
    await c.updateUpstream('ups1', { dc1: { servers: [srv(1003)] } })
    expect(c.getUpstream('ups1')!.cluster).toEqual({ dc1: { servers: [{ ...srv(1003), max_fails: 0, fail_timeout: 10 }], upstream: null, upstream_only_backup: false, upstream_skip_down: false } })
  })

  it('{ servers, ...keys } is a one-level cluster with the other keys merged', async () => {
    const c = prepared(base)
    await c.updateUpstream('ups1', { servers: [srv(1004)], try: 5 })
    const u = c.getUpstream('ups1')!
    expect([u.mode, u.try, (u.cluster as { servers: unknown[] }[])[0]!.servers.length]).toEqual(['hash', 5, 1])
  })

  it('with cluster: full replacement (defaults again)', async () => {
    const c = prepared(base)
    await c.updateUpstream('ups1', { cluster: [{ servers: [srv(1005)] }] })
    const u = c.getUpstream('ups1')!
    expect([u.mode, u.typ, u.try, u.http_opts]).toEqual(['wrr', 'general', null, null])
  })

  it('an unknown skey becomes a new upstream; versions count up; delete', async () => {
    const c = prepared(base)
    expect(await c.updateUpstream('ups2', [{ servers: [srv(1006)] }])).toBe(1)
    expect(Object.keys(c.getUpstream())).toEqual(['ups1', 'ups2'])
    expect(c.getStatus().shd_config_version).toBe(1)
    expect(await c.deleteUpstream('ups2')).toBe(2)
    expect(c.getUpstream('ups2')).toBeUndefined()
    expect(await err(c.deleteUpstream('ups2'))).toBe('CKP_ERR_UPSTREAM_NOT_FOUND: upstream ups2 not found')
    expect(await err(c.readyOk('ups2', () => 1))).toBe('CKP_ERR_UNKNOWN_SKEY: unknown skey ups2')
  })

  it('custom heartbeat functions survive an update', async () => {
    const heartbeat = () => 0
    const c = prepared({ ups1: { heartbeat, cluster: [{ servers: [srv(1001)] }] } })
    await c.updateUpstream('ups1', [{ servers: [srv(1002)] }])
    expect(c.getUpstream('ups1')!.heartbeat).toBe(heartbeat)
  })
})

describe('propagation between workers', () => {
  const two = (config: unknown) => {
    const zones = makeZones()
    new Checkups({ shared: zones }).init(config)
    const ws = [0, 1].map((id) => new Checkups({ shared: zones, worker: { id, count: 2, pid: 100 + id } }))
    for (const w of ws) w.prepareChecker(config)
    return ws as [Checkups, Checkups]
  }

  it('another worker sees an update on its next select; only that upstream\'s balancer state resets', async () => {
    const [w0, w1] = two({
      a: { cluster: [{ servers: [srv(1001, 1), srv(1002, 2), srv(1003, 3)] }] },
      b: { cluster: [{ servers: [srv(2001)] }] },
    })
    const seq = (w: Checkups, skey: string, n: number) => Array.from({ length: n }, () => w.selectPeer(skey).port % 10).join('')
    expect(seq(w1, 'a', 3)).toBe('321') // CBA of CBACBC
    await w0.updateUpstream('b', [{ servers: [srv(2002)] }])
    expect(w1.selectPeer('b').port).toBe(2002)
    expect(seq(w1, 'a', 3)).toBe('323') // the cycle goes on: CBC
    await w0.updateUpstream('a', [{ servers: [srv(1001, 1), srv(1002, 2), srv(1003, 3)] }])
    expect(seq(w1, 'a', 6)).toBe('321323') // same bytes: its state is kept
  })

  it('a changed upstream restarts its cycle', async () => {
    const [w0, w1] = two({ a: { cluster: [{ servers: [srv(1001, 1), srv(1002, 2), srv(1003, 3)] }] } })
    const seq = (w: Checkups, n: number) => Array.from({ length: n }, () => w.selectPeer('a').port % 10).join('')
    expect(seq(w1, 2)).toBe('32')
    await w0.updateUpstream('a', [{ servers: [srv(1001, 1), srv(1002, 2), srv(1003, 3), srv(1004, 1)] }])
    expect(seq(w1, 1)).toBe('3')
  })
})

describe('persistence and locking', () => {
  it('persistence.save gets the full snapshot under the lock, before the call resolves', async () => {
    const zones = makeZones()
    const config = { global: { conf_hash: 'h1' }, ...base }
    new Checkups({ shared: zones }).init(config)
    const saved: unknown[] = []
    const c = new Checkups({ shared: zones, persistence: { save: (s) => saved.push({ ...s, locked: zones.locks.get(KEY.SKEYS_LOCK) !== undefined }) } })
    c.prepareChecker(config)
    await c.updateUpstream('ups2', [{ servers: [srv(1002)] }])
    expect(saved).toHaveLength(1)
    const snap = saved[0] as { version: number; conf_hash: string; upstreams: Record<string, { cluster: unknown }>; locked: boolean }
    expect([snap.version, snap.conf_hash, Object.keys(snap.upstreams), snap.locked]).toEqual([1, 'h1', ['ups1', 'ups2'], true])
    // a restore applies the snapshot
    const z2 = makeZones()
    const p = new Checkups({ shared: z2 })
    p.init(config, { restore: snap })
    const w = new Checkups({ shared: z2 })
    w.prepareChecker(config)
    expect(w.selectPeer('ups2')).toEqual({ host: H, port: 1002 })
    expect(w.getStatus().shd_config_version).toBe(1)
  })

  it('a failed save publishes nothing: every worker keeps the old config and version', async () => {
    const zones = makeZones()
    new Checkups({ shared: zones }).init(base)
    let fail = true
    const writer = new Checkups({ shared: zones, persistence: { save: () => { if (fail) throw new Error('ENOSPC: no space left on device') } } })
    writer.prepareChecker(base)
    const other = new Checkups({ shared: zones })
    other.prepareChecker(base)
    await expect(writer.updateUpstream('ups1', [{ servers: [srv(1002)] }])).rejects.toThrow('ENOSPC')
    await expect(writer.updateUpstream('ups9', [{ servers: [srv(1009)] }])).rejects.toThrow('ENOSPC')
    await expect(writer.deleteUpstream('ups1')).rejects.toThrow('ENOSPC')
    for (const w of [writer, other]) {
      expect(w.selectPeer('ups1')).toEqual({ host: H, port: 1001 })
      expect(w.getUpstream('ups9')).toBeUndefined()
      expect(w.getStatus().shd_config_version).toBe(0)
    }
    fail = false
    expect(await writer.deleteUpstream('ups1')).toBe(1)
    expect(other.getUpstream('ups1')).toBeUndefined()
  })

  it('a held checkups:skeys lock → CKP_ERR_LOCK_TIMEOUT "timeout"', async () => {
    const zones = makeZones()
    new Checkups({ shared: zones }).init(base)
    const holder = new Lock(zones.locks, { timeout: 1 })
    await holder.lock(KEY.SKEYS_LOCK)
    const c = new Checkups({ shared: zones, lockTimeout: 0.05 })
    c.prepareChecker(base)
    expect(await err(c.updateUpstream('ups1', [{ servers: [srv(1002)] }]))).toBe('CKP_ERR_LOCK_TIMEOUT: timeout')
    holder.unlock()
    expect(await c.updateUpstream('ups1', [{ servers: [srv(1002)] }])).toBe(1)
  })
})
