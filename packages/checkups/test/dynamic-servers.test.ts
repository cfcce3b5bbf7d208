/** Per-server operations through `checkups.dynamic` (real zones, two views). */
import { describe, expect, it } from 'vitest'
import { Checkups, CheckupsError } from '@checkups/core'
import { makeZones } from './helpers.js'

const H = '127.0.0.1'
const srv = (port: number) => ({ host: H, port })

function two(config: Record<string, unknown>): [Checkups, Checkups] {
  const zones = makeZones()
  new Checkups({ shared: zones }).init(config)
  const a = new Checkups({ shared: zones })
  a.prepareChecker(config)
  const b = new Checkups({ shared: zones })
  b.prepareChecker(config)
  return [a, b]
}

async function code(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (e: CheckupsError) => `${e.code}: ${e.message}`)
}

describe('checkups.dynamic per-server operations', () => {
  it('add to a level or a named cluster, patch flags, remove; the other view sees each change', async () => {
    const [a, b] = two({
      lv: { cluster: [{ servers: [srv(1001)] }, { servers: [srv(1002)] }] },
      named: { cluster: { dc1: { servers: [srv(2001)] }, dc2: { servers: [srv(2002)] } } },
    })
    expect(await a.dynamic.addServer('lv', srv(1003), { level: 2 })).toBe(1)
    expect(await a.dynamic.addServer('named', { ...srv(2003), weight: 4 }, { cluster: 'dc2' })).toBe(2)
    expect(b.dynamic.servers('lv').map((s) => [s.cluster, s.port])).toEqual([[1, 1001], [2, 1002], [2, 1003]])
    expect(b.dynamic.servers('named').map((s) => [s.cluster, s.port, s.weight])).toEqual([['dc1', 2001, 1], ['dc2', 2002, 1], ['dc2', 2003, 4]])
    await a.dynamic.patchServer('lv', H, 1001, { down: true })
    expect(b.selectPeer('lv')).toEqual({ host: H, port: 1002 }) // level 1 has nothing up: level 2
    await a.dynamic.patchServer('lv', H, 1001, { down: false })
    expect(b.getUpstream('lv')!.cluster).toEqual(a.getUpstream('lv')!.cluster)
    expect(Object.keys((b.getUpstream('lv')!.cluster as Array<{ servers: object[] }>)[0]!.servers[0]!)).not.toContain('down')
    expect(b.selectPeer('lv')).toEqual({ host: H, port: 1001 })
    await a.dynamic.removeServer('lv', H, 1003)
    expect(b.dynamic.servers('lv').map((s) => s.port)).toEqual([1001, 1002])
  })

  it('refusals change nothing', async () => {
    const [a, b] = two({ lv: { cluster: [{ servers: [srv(1001)] }] }, named: { cluster: { dc1: { servers: [srv(2001)] } } } })
    const before = JSON.stringify(b.getUpstream())
    expect(await code(a.dynamic.addServer('lv', srv(1001)))).toBe(`CKP_ERR_SERVER_EXISTS: server ${H}:1001 already in upstream lv`)
    expect(await code(a.dynamic.addServer('lv', srv(1002), { level: 3 }))).toBe('CKP_ERR_INVALID_UPSTREAM: level: upstream lv has no level 3')
    expect(await code(a.dynamic.addServer('named', srv(1002), { level: 1 }))).toBe('CKP_ERR_INVALID_UPSTREAM: level: upstream named has named clusters, not levels')
    expect(await code(a.dynamic.addServer('lv', { host: H, port: 0 }))).toBe('CKP_ERR_INVALID_UPSTREAM: lv.cluster[0].servers[1].port: must be an integer 1-65535')
    expect(await code(a.dynamic.removeServer('lv', H, 1001))).toBe('CKP_ERR_INVALID_UPSTREAM: can not update empty level')
    expect(await code(a.dynamic.patchServer('lv', H, 9, { weight: 2 }))).toBe(`CKP_ERR_UNKNOWN_PEER: unknown server ${H}:9 in upstream lv`)
    expect(await code(a.dynamic.patchServer('nope', H, 9, { weight: 2 }))).toBe('CKP_ERR_UPSTREAM_NOT_FOUND: upstream nope not found')
    expect(await code(a.dynamic.patchServer('lv', H, 1001, { weight: 2 }, { ifMatch: 7 }))).toBe('CKP_ERR_VERSION_MISMATCH: config version is 0, not 7')
    expect(JSON.stringify(b.getUpstream())).toBe(before)
    expect(b.dynamic.version()).toBe(0)
  })

  it('hash mode: the keys of a drained server go to the next server; the other keys stay', async () => {
    const ports = [3001, 3002, 3003, 3004]
    const [a, b] = two({ h: { mode: 'hash', cluster: [{ servers: ports.map(srv) }] } })
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`)
    const pick = () => new Map(keys.map((k) => [k, b.selectPeer('h', { hash_key: k }).port]))
    const before = pick()
    await a.dynamic.patchServer('h', H, 3002, { drain: true })
    const after = pick()
    for (const k of keys) {
      if (before.get(k) === 3002) expect(after.get(k), k).not.toBe(3002)
      else expect(after.get(k), k).toBe(before.get(k))
    }
    expect([...before.values()].filter((p) => p === 3002).length).toBeGreaterThan(10)
  })

  it('drain: draining while another worker has a request in flight, or has not taken the change in yet', async () => {
    const zones = makeZones()
    const cfg = { u: { cluster: [{ servers: [srv(4001), srv(4002)] }] } }
    new Checkups({ shared: zones }).init(cfg)
    const a = new Checkups({ shared: zones, worker: { id: 0, count: 2, pid: 1 } })
    a.prepareChecker(cfg)
    const b = new Checkups({ shared: zones, worker: { id: 1, count: 2, pid: 2 } })
    b.prepareChecker(cfg)
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let port = 0
    const slow = b.readyOk('u', async (_h, p) => { port = p; await held; return true })
    await Promise.resolve()
    const state = () => a.dynamic.servers('u').find((s) => s.port === port)!.state
    await a.dynamic.patchServer('u', H, port, { drain: true })
    expect(state()).toBe('draining') // b has not seen the drain yet
    b.selectPeer('u') // b takes the change in and publishes its count
    expect(state()).toBe('draining')
    release()
    await slow
    expect(state()).toBe('drained')
    expect(b.selectPeer('u').port).not.toBe(port)
  })
})
