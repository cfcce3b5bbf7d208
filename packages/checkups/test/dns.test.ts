// DNS hostnames (global.dns) against a real DNS server on loopback (test/fixtures/dns-server.ts)
// and real HTTP backends on 127.0.0.2 / 127.0.0.3: validation, expansion into one peer per
// address, re-resolution when the records change, a dead server keeping the last addresses
// (stale), and the TTL bounds on a fake clock.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { Checkups, KEY, decodeRecord, resolveConfig, type Status } from '@checkups/core'
import { DnsRefresher } from '../src/dns/refresher.js'
import { type TestDns, type Twin, testDns, twins } from '../../../test/fixtures/dns-server.js'
import { fakeClock, makeZones } from './helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Until `fn` is true, at most ~10 s. */
async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (fn()) return
    await sleep(25)
  }
  throw new Error(`timed out waiting for ${what}`)
}

let dns: TestDns
let web: Twin
const running: Checkups[] = []

beforeAll(async () => {
  dns = await testDns()
  web = await twins(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'])
})
afterAll(async () => {
  await dns?.stop()
  await web?.close()
})
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop()
})

function config(name: string, dnsOpts: Record<string, unknown> = {}) {
  return {
    global: { checkup_timer_interval: 0.2, dns: { resolver: dns.resolver, min_ttl: 0.2, max_ttl: 60, ...dnsOpts } },
    api: { timeout: 1, cluster: [{ servers: [{ host: name, port: web.port, weight: 3, max_fails: 2 }, { host: '127.0.0.1', port: web.port }] }] },
  }
}

/** A primary-seeded zone and one leader worker running its checker. */
function leader(cfg: unknown, zones = makeZones(), count = 2): Checkups {
  new Checkups({ shared: zones }).init(cfg)
  const c = new Checkups({ shared: zones, worker: { id: 0, count, pid: process.pid } })
  c.prepareChecker(cfg)
  c.createChecker()
  running.push(c)
  return c
}

const dnsOf = (c: Checkups, name: string) => c.getStatus().dns?.[name]
const peers = (s: Status) => (s['cls:api'] as Array<Array<{ server: string; weight: number; max_fails: number; dns?: unknown }>>)[0]!

describe('config', () => {
  it('global.dns is validated; absent it adds nothing to the resolved global', () => {
    expect(resolveConfig({ api: { cluster: [{ servers: [] }] } }).global).not.toHaveProperty('dns')
    expect(resolveConfig({ global: { dns: {} } }).global.dns).toEqual({ resolver: null, min_ttl: 1, max_ttl: 300 })
    expect(resolveConfig({ global: { dns: { resolver: '[::1]:5353' } } }).global.dns?.resolver).toBe('[::1]:5353')
    const bad: Array<[unknown, string]> = [
      [{ resolver: 'dns.example:53' }, 'global.dns.resolver: must be an IP address with an optional port'],
      [{ resolver: '127.0.0.1:99999' }, 'global.dns.resolver: must have a port 1-65535'],
      [{ min_ttl: 10, max_ttl: 5 }, 'global.dns.min_ttl: must not exceed max_ttl'],
      [{ max_ttl: 0 }, 'global.dns.max_ttl: must be a number of seconds'],
      [{ ttl: 5 }, 'global.dns.ttl: unknown option'],
    ]
    for (const [d, msg] of bad) expect(() => resolveConfig({ global: { dns: d } })).toThrow(msg)
  })

  it('a DNS name must be an RFC 1123 hostname; the earlier refusals stay', () => {
    const host = (h: string) => () => resolveConfig({ api: { cluster: [{ servers: [{ host: h, port: 80 }] }] } })
    expect(host('api.internal')).not.toThrow()
    expect(host('_svc.api-1.internal.')).not.toThrow()
    expect(host(`${'a'.repeat(64)}.internal`)).toThrow('labels are 1-63 characters')
    expect(host('-api.internal')).toThrow('must be a hostname (letters, digits')
    expect(host('api-.internal')).toThrow('not beginning or ending with "-"')
    expect(host('10.0.0.300')).toThrow('last label is not all digits')
    expect(host('api.internal\r\nx: y')).toThrow('control characters')
    expect(host('api.internal:80')).toThrow('without a port')
  })
})

describe('resolution', () => {
  it('a hostname becomes one peer per A record, with its weight and limits; IP hosts are untouched', async () => {
    dns.set('two.test', ['127.0.0.3', '127.0.0.2'], 60)
    const c = leader(config('two.test'))
    await until(() => dnsOf(c, 'two.test')?.addresses.length === 2, 'two addresses')
    const st = c.getStatus()
    expect(peers(st).map((p) => [p.server, p.weight, p.max_fails])).toEqual([
      [`api:127.0.0.2:${web.port}`, 3, 2], [`api:127.0.0.3:${web.port}`, 3, 2], [`api:127.0.0.1:${web.port}`, 1, 0],
    ])
    expect(peers(st)[0]!.dns).toMatchObject({ name: 'two.test', addresses: ['127.0.0.2', '127.0.0.3'], stale: false })
    expect(peers(st)[2]!.dns).toBeUndefined()
    expect(c.getUpstream('api')?.cluster).toMatchObject([{ servers: [{ host: 'two.test' }, { host: '127.0.0.1' }] }])
    const seen = new Map<string, number>()
    for (let i = 0; i < 70; i++) {
      const body = await c.readyOk('api', (host, port) => fetch(`http://${host}:${port}/`).then((r) => r.text()))
      seen.set(body, (seen.get(body) ?? 0) + 1)
    }
    expect(Object.fromEntries(seen)).toEqual({ '127.0.0.2': 30, '127.0.0.3': 30, '127.0.0.1': 10 })
  })

  it('changed records are re-resolved within their TTL and the peers switch', async () => {
    dns.set('moving.test', ['127.0.0.2'], 1)
    const c = leader(config('moving.test'))
    await until(() => dnsOf(c, 'moving.test')?.addresses.length === 1, 'first answer')
    expect(c.selectPeer('api')).toEqual({ host: '127.0.0.2', port: web.port })
    dns.set('moving.test', ['127.0.0.4', '127.0.0.3'], 1)
    await until(() => dnsOf(c, 'moving.test')?.addresses.join() === '127.0.0.3,127.0.0.4', 'the new answer')
    const hosts = new Set(Array.from({ length: 12 }, () => c.selectPeer('api').host))
    expect([...hosts].sort()).toEqual(['127.0.0.1', '127.0.0.3', '127.0.0.4'])
  })

  it('a dead DNS server: the last addresses are kept, shown stale, counted; a live one clears it', async () => {
    dns.set('kept.test', ['127.0.0.2', '127.0.0.3'], 1)
    const c = leader(config('kept.test'))
    await until(() => dnsOf(c, 'kept.test')?.addresses.length === 2, 'first answer')
    await dns.stop()
    try {
      await until(() => dnsOf(c, 'kept.test')?.stale === true, 'stale')
      const d = dnsOf(c, 'kept.test')!
      expect(d.addresses).toEqual(['127.0.0.2', '127.0.0.3'])
      expect(d.failures).toBeGreaterThan(0)
      expect(d.error).toMatch(/ECONNREFUSED|ETIMEOUT|ESERVFAIL/)
      expect(peers(c.getStatus()).filter((p) => p.dns !== undefined).map((p) => p.server)).toHaveLength(2)
      expect(new Set(Array.from({ length: 10 }, () => c.selectPeer('api').host)).size).toBe(3)
    } finally {
      await dns.start()
    }
    await until(() => dnsOf(c, 'kept.test')?.stale === false, 'fresh again')
  })

  it('an unknown name keeps the name itself as its one peer (as without global.dns), stale', async () => {
    const c = leader(config('nowhere.test'))
    await until(() => dnsOf(c, 'nowhere.test')?.stale === true, 'a failed lookup')
    expect(dnsOf(c, 'nowhere.test')).toMatchObject({ addresses: [], age: null, error: expect.stringContaining('ENOTFOUND') })
    expect(peers(c.getStatus()).map((p) => p.server)).toEqual([`api:nowhere.test:${web.port}`, `api:127.0.0.1:${web.port}`])
  })

  it('an upstream added at runtime with a hostname is resolved too, and its record removed with it', async () => {
    dns.set('late.test', ['127.0.0.4'], 60)
    const c = leader(config('two.test'))
    await c.updateUpstream('late', { cluster: [{ servers: [{ host: 'late.test', port: web.port }] }] })
    await until(() => c.selectPeer('late').host === '127.0.0.4', 'the added upstream resolved')
    await c.deleteUpstream('late')
    await until(() => c.zones.config.get(KEY.dns('late.test')) === undefined, 'its record pruned')
  })
})

describe('drain of a server given by hostname', () => {
  it('none of its addresses gets new requests; it is draining while one of them has a request in flight', async () => {
    dns.set('drain.test', ['127.0.0.2', '127.0.0.3'], 60)
    const c = leader(config('drain.test'), makeZones(), 1) // one worker: nobody else to wait for
    await until(() => dnsOf(c, 'drain.test')?.addresses.length === 2, 'two addresses')
    let release: () => void = () => undefined
    const held = new Promise<void>((r) => (release = r))
    let heldOn = ''
    const slow = c.readyOk('api', async (host) => { heldOn = host; await held; return host }, { try: 1 })
    await until(() => heldOn !== '', 'the slow request started')
    expect(heldOn).toBe('127.0.0.2')
    await c.dynamic.patchServer('api', 'drain.test', web.port, { drain: true })
    const state = () => c.dynamic.servers('api').map((s) => [s.host, s.state])
    expect(state()).toEqual([['drain.test', 'draining'], ['127.0.0.1', 'up']])
    expect(new Set(Array.from({ length: 6 }, () => c.selectPeer('api').host))).toEqual(new Set(['127.0.0.1']))
    release()
    expect(await slow).toBe('127.0.0.2')
    expect(state()).toEqual([['drain.test', 'drained'], ['127.0.0.1', 'up']])
  })
})

describe('TTL bounds (fake clock, real lookups)', () => {
  it('a record TTL below min_ttl waits min_ttl, above max_ttl waits max_ttl; failures back off from min_ttl', async () => {
    dns.set('short.test', ['127.0.0.2'], 1)
    dns.set('long.test', ['127.0.0.3'], 3600)
    const clock = fakeClock()
    const zone = SharedDict.create(1 << 20)
    const r = new DnsRefresher({ config: zone, clock, logger: { info() {}, warn() {}, error() {} },
      settings: { resolver: dns.resolver, min_ttl: 30, max_ttl: 60 }, names: () => ['long.test', 'short.test'] })
    const rec = (n: string) => decodeRecord<{ ttl: number; next_at: number; failures: number; stale: boolean }>(zone.get(KEY.dns(n)) as Uint8Array)!
    const asked = () => [dns.count('short.test'), dns.count('long.test')]
    const t0 = clock.now()
    const base = asked()
    await r.refresh()
    expect([rec('short.test').ttl, rec('long.test').ttl]).toEqual([30, 60])
    expect([rec('short.test').next_at - t0, rec('long.test').next_at - t0]).toEqual([30_000, 60_000])
    const once = asked()
    expect(once.map((n, i) => n - base[i]!)).toEqual([2, 2]) // A + AAAA each
    clock.advance(29_999)
    await r.refresh()
    expect(asked()).toEqual(once)
    clock.advance(1)
    await r.refresh()
    expect(asked()).toEqual([once[0]! + 2, once[1]!])
    await dns.stop()
    try {
      clock.advance(30_000)
      await r.refresh()
      expect(rec('long.test')).toMatchObject({ stale: true, failures: 1 })
      expect(rec('long.test').next_at - clock.now()).toBe(30_000)
      clock.advance(30_000)
      await r.refresh()
      expect(rec('long.test')).toMatchObject({ stale: true, failures: 2 })
      expect(rec('long.test').next_at - clock.now()).toBe(60_000) // 30 × 2, at most max_ttl
    } finally {
      await dns.start()
    }
  })

  it('a config zone with no room for a record: logged, and the name is looked up again at its next_at, not at once', async () => {
    dns.set('full.test', ['127.0.0.2'], 1)
    const clock = fakeClock()
    const zone = SharedDict.create(1 << 16)
    // fill the zone: no room is left for a record (safeSet never evicts)
    let i = 0
    for (const size of [4096, 512, 64, 8, 1]) while (zone.safeSet(`fill:${i++}`, new Uint8Array(size)).ok) { /* until full */ }
    const errors: string[] = []
    const r = new DnsRefresher({ config: zone, clock, logger: { info() {}, warn() {}, error: (_f: unknown, msg: string) => void errors.push(msg) },
      settings: { resolver: dns.resolver, min_ttl: 30, max_ttl: 60 }, names: () => ['full.test'] })
    const base = dns.count('full.test')
    await r.refresh()
    expect(zone.get(KEY.dns('full.test'))).toBeUndefined()
    expect(errors).toContain('dns: no room in the config zone for a record')
    const once = dns.count('full.test')
    expect(once - base).toBe(2) // A + AAAA
    await r.refresh()
    clock.advance(29_999)
    await r.refresh()
    expect(dns.count('full.test')).toBe(once)
    clock.advance(1)
    await r.refresh()
    expect(dns.count('full.test')).toBe(once + 2)
  })
})
