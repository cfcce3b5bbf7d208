/**
 * Change detection: a worker view that is a few config versions behind reads only the
 * upstreams those versions wrote (the config change log), and compares every upstream only
 * when the log does not cover the gap (too far behind, a whole-config write). The reads of
 * the config zone are counted through a wrapper around the real shared dict.
 */
import { describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { Checkups, KEY } from '@checkups/core'
import { makeZones } from './helpers.js'

const H = '127.0.0.1'
const N = 50
const config = () => Object.fromEntries(Array.from({ length: N }, (_, i) => [`ups${i}`, { cluster: [{ servers: [{ host: H, port: 2000 + i }, { host: H, port: 3000 + i }] }] }]))

/** the real dict, with every get() key recorded */
function counted(dict: SharedDict): { dict: SharedDict; reads: string[] } {
  const reads: string[] = []
  const wrapped = new Proxy(dict, {
    get(t, p) {
      if (p === 'get') return (k: string) => { reads.push(k); return t.get(k) }
      const v = Reflect.get(t, p, t) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    },
  })
  return { dict: wrapped, reads }
}

function setup() {
  const zones = makeZones()
  new Checkups({ shared: zones }).init(config())
  const writer = new Checkups({ shared: zones })
  writer.prepareChecker(config())
  const c = counted(zones.config)
  const reader = new Checkups({ shared: { ...zones, config: c.dict } })
  reader.prepareChecker(config())
  reader.selectPeer('ups0')
  const upstreamReads = () => c.reads.filter((k) => k.startsWith('shd_config:'))
  const reset = () => { c.reads.length = 0 }
  reset()
  return { zones, writer, reader, reads: c.reads, upstreamReads, reset }
}

const one = (port: number) => [{ servers: [{ host: H, port }] }]

describe('config change detection', () => {
  it('one update among 50: the view reads that upstream only, and keeps the others\' balancer state', async () => {
    const { writer, reader, reads, upstreamReads } = setup()
    const before = reader.selectPeer('ups9').port // round-robin position of an untouched upstream
    const callsBefore = reads.length
    await writer.updateUpstream('ups7', one(4007))
    expect(reader.selectPeer('ups7')).toEqual({ host: H, port: 4007 })
    expect(upstreamReads()).toEqual(['shd_config:ups7'])
    expect(reads).not.toContain(KEY.SKEYS)
    expect(reads.length - callsBefore).toBeLessThanOrEqual(4)
    // not rebuilt: its smooth round-robin went on from where it was
    expect(reader.selectPeer('ups9').port).not.toBe(before)
  })

  it('several versions behind: exactly the upstreams written, each once', async () => {
    const { writer, reader, upstreamReads } = setup()
    await writer.updateUpstream('ups1', one(4001))
    await writer.updateUpstream('ups2', one(4002))
    await writer.updateUpstream('ups1', one(4101))
    const last = await writer.updateUpstream('ups3', one(4003))
    expect(reader.selectPeer('ups1').port).toBe(4101)
    expect(upstreamReads().sort()).toEqual(['shd_config:ups1', 'shd_config:ups2', 'shd_config:ups3'])
    expect(reader.selectPeer('ups2').port).toBe(4002)
    expect(reader.selectPeer('ups3').port).toBe(4003)
    expect(reader.getStatus().shd_config_version).toBe(last)
  })

  it('a delete and an added upstream reach the view through the log', async () => {
    const { writer, reader, upstreamReads } = setup()
    await writer.deleteUpstream('ups4')
    await writer.updateUpstream('fresh', one(4999))
    expect(reader.selectPeer('fresh')).toEqual({ host: H, port: 4999 })
    expect(() => reader.selectPeer('ups4')).toThrow()
    expect(reader.getUpstream('ups4')).toBeUndefined()
    expect(upstreamReads().sort()).toEqual(['shd_config:fresh', 'shd_config:ups4'])
  })

  it('further behind than the log: every upstream compared, and the result is right', async () => {
    const { writer, reader, reads, upstreamReads } = setup()
    for (let i = 0; i < 40; i++) await writer.updateUpstream(`ups${i % 10}`, one(5000 + i))
    await writer.deleteUpstream('ups20')
    expect(reader.selectPeer('ups9').port).toBe(5039)
    expect(reads).toContain(KEY.SKEYS)
    expect(new Set(upstreamReads()).size).toBe(N - 1)
    expect(reader.getUpstream('ups20')).toBeUndefined()
    for (let k = 0; k < 10; k++) expect(reader.selectPeer(`ups${k}`).port).toBe(5030 + k)
  })

  it('a whole-config write in between (reload) makes the view compare everything', async () => {
    const { zones, writer, reader, reads, upstreamReads, reset } = setup()
    await writer.updateUpstream('ups1', one(4001))
    reader.selectPeer('ups1')
    reset()
    const primary = new Checkups({ shared: zones })
    await primary.reload({ ...config(), ups2: { cluster: one(6002) } })
    await writer.updateUpstream('ups3', one(4003))
    expect(reader.selectPeer('ups2').port).toBe(6002)
    expect(reads).toContain(KEY.SKEYS)
    expect(new Set(upstreamReads()).size).toBe(N)
    expect(reader.selectPeer('ups3').port).toBe(4003)
    // the runtime change of ups1 kept by the reload rules, seen without another full read
    reset()
    await writer.updateUpstream('ups5', one(4005))
    expect(reader.selectPeer('ups5').port).toBe(4005)
    expect(upstreamReads()).toEqual(['shd_config:ups5'])
  })
})
