/**
 * Per-peer statistics, the event ring and process blocks over one statistics zone (a plain
 * SharedArrayBuffer here; the cross-process suite in test/ runs them in shared memory).
 */
import { describe, expect, it } from 'vitest'
import { EventRing, Observer, ProcessBlocks, STATS_ZONE_BYTES, StatsZone, quantileMs, type Logger } from '@checkups/core'
import { fakeClock, prepared } from './helpers.js'

const config = {
  global: { checkup_timer_interval: 5 },
  ups: { cluster: [{ servers: [{ host: '127.0.0.1', port: 1001 }, { host: '127.0.0.1', port: 1002 }] }] },
}

function lines(): { logger: Logger; seen: Array<[string, Record<string, unknown> | undefined]> } {
  const seen: Array<[string, Record<string, unknown> | undefined]> = []
  const log = (f: Record<string, unknown>, msg: string): void => void seen.push([msg, f])
  return { logger: { info: log, warn: log, error: log }, seen }
}

describe('StatsZone', () => {
  it('hands every view of one buffer the same slot and the same numbers', () => {
    const buf = new SharedArrayBuffer(STATS_ZONE_BYTES)
    const a = new StatsZone(buf)
    const b = new StatsZone(buf)
    const ia = a.slot('ups', '127.0.0.1', 1001)
    expect(b.lookup('ups', '127.0.0.1', 1001)).toBe(ia)
    expect(b.slot('ups', '127.0.0.1', 1002)).not.toBe(ia)
    expect(a.lookup('ups', '127.0.0.2', 1001)).toBe(-1)
    a.add(ia, 0, 5n)
    expect(b.load(ia, 0)).toBe(5)
    expect(a.peersUsed()).toBe(2)
    expect(b.claimed().map((c) => `${c.skey}/${c.host}/${c.port}`).sort()).toEqual(['ups/127.0.0.1/1001', 'ups/127.0.0.1/1002'])
  })

  it('refuses a buffer that is too small or holds something else', () => {
    expect(() => new StatsZone(new SharedArrayBuffer(4096))).toThrow(/need/)
    const buf = new SharedArrayBuffer(STATS_ZONE_BYTES)
    new Int32Array(buf)[0] = 42
    expect(() => new StatsZone(buf)).toThrow(/bad magic/)
  })
})

describe('readyOk feeds the per-peer counters', () => {
  it('counts requests, outcomes, response classes and latency exactly', async () => {
    const clock = fakeClock()
    const c = prepared(config, { clock })
    const cb = (status: number) => (_h: string, port: number) => {
      clock.advance(port === 1001 ? 3 : 40)
      return { status }
    }
    for (let i = 0; i < 10; i++) await c.readyOk('ups', cb(200))
    await c.readyOk('ups', cb(404))
    const lat = c.getStats('ups').ups!
    // 3 ms lands in the 5 ms bucket, 40 ms in the 50 ms one
    for (const [peer, le, ms] of [['127.0.0.1:1001', 0.005, 3], ['127.0.0.1:1002', 0.05, 40]] as const) {
      expect(lat[peer]!.latency.buckets.find((x) => x.le === le)!.count).toBe(lat[peer]!.latency.count)
      expect(lat[peer]!.latency.sum_ms).toBe(ms * lat[peer]!.latency.count)
    }
    expect(lat['127.0.0.1:1001']!.latency.count + lat['127.0.0.1:1002']!.latency.count).toBe(11)
    await expect(c.readyOk('ups', () => { throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }, { try: 1 })).rejects.toThrow()
    await expect(c.readyOk('ups', () => false, { try: 1 })).rejects.toThrow()
    const s = c.getStats('ups').ups!
    const a = s['127.0.0.1:1001']!
    const b = s['127.0.0.1:1002']!
    expect(a.requests + b.requests).toBe(13)
    expect(a.selected + b.selected).toBe(13)
    expect(a.inflight + b.inflight).toBe(0)
    expect(a.responses['2xx'] + b.responses['2xx']).toBe(10)
    expect(a.responses['4xx'] + b.responses['4xx']).toBe(1)
    expect(a.outcomes.ok + b.outcomes.ok).toBe(11)
    expect(a.outcomes.connect_error + b.outcomes.connect_error).toBe(1)
    expect(a.outcomes.error + b.outcomes.error).toBe(1)
    expect(() => c.getStats('nope')).toThrow(/unknown skey nope/)
  })
})

describe('the funnel feeds the recorder', () => {
  it('a body failing after the response counts one request with two outcomes; in flight returns to 0', async () => {
    const c = prepared(config)
    let late: { report(o: 'body_error'): void } | undefined
    await c.readyOk('ups', (_h, _p, ctx) => {
      late = ctx
      return { status: 200 }
    })
    late!.report('body_error')
    const peers = Object.values(c.getStats('ups').ups!)
    const used = peers.find((p) => p.selected > 0)!
    expect(used).toMatchObject({ requests: 1, selected: 1, inflight: 0, responses: { '2xx': 1 }, outcomes: { ok: 1, body_error: 1 } })
    c.observer.recording = false
    await c.readyOk('ups', () => ({ status: 200 }))
    expect(Object.values(c.getStats('ups').ups!).reduce((n, p) => n + p.requests, 0)).toBe(1)
  })
})

describe('Observer transitions', () => {
  it('logs, counts and publishes each heartbeat flip once; downtime covers the down period', () => {
    let now = 1_000_000
    const { logger, seen } = lines()
    const o = new Observer(undefined, logger, () => now)
    const check = (from: string, to: string) => [{ skey: 'ups', host: 'h', port: 1, from, to, failed: to !== 'ok', msg: to === 'ok' ? null : 'refused' }]
    o.heartbeatRound(check('ok', 'ok'), 3)
    o.heartbeatRound(check('ok', 'err'), 3)
    now += 5000
    o.heartbeatRound(check('err', 'err'), 3)
    now += 2500
    o.heartbeatRound(check('err', 'ok'), 3)
    const t = seen.filter(([m]) => m === 'health transition').map(([, f]) => `${f!['from']}>${f!['to']}:${f!['cause']}`)
    expect(t).toEqual(['ok>err:heartbeat', 'err>ok:heartbeat'])
    const p = o.peer('ups', 'h', 1)
    expect(p).toMatchObject({ health: 'ok', downtime_ms: 7500, heartbeat: { checks: 4, failures: 2 }, transitions: { heartbeat: 2, passive: 0 } })
    expect(o.rounds().count).toBe(4)
    const ev = o.events.read(0).events
    expect(ev.map((e) => e.type === 'transition' && `${e.id}:${e.to}`)).toEqual(['1:err', '2:ok'])
  })
})

describe('EventRing', () => {
  it('resumes after an id, and reports what the ring overwrote', () => {
    const zone = new StatsZone()
    const w = new EventRing(zone)
    const r = new EventRing(new StatsZone(zone.buffer))
    for (let v = 1; v <= 5; v++) w.push({ type: 'config', version: v, op: 'update', upstream: 'u' })
    const first = r.read(0, 3)
    expect(first.events.map((e) => e.id)).toEqual([1, 2, 3])
    expect(r.read(first.next).events.map((e) => e.id)).toEqual([4, 5])
    for (let v = 6; v <= 1030; v++) w.push({ type: 'config', version: v, op: 'update' })
    const late = r.read(5)
    // the ring holds the last 1024 (7..1030): event 6 was overwritten
    expect(late.lost).toBe(1)
    expect(late.events[0]!.id).toBe(7)
    expect(late.events.at(-1)!.id).toBe(7 + 255)
  })

  it('drops an over-long msg instead of the event', () => {
    const ring = new EventRing(new StatsZone())
    ring.push({ type: 'transition', upstream: 'u', peer: 'h:1', from: 'ok', to: 'err', cause: 'heartbeat', msg: 'x'.repeat(2000) })
    expect(ring.read(0).events[0]).toMatchObject({ id: 1, to: 'err', msg: null })
  })
})

describe('ProcessBlocks and quantiles', () => {
  it('keeps one snapshot per process and refuses one too large', () => {
    const p = new ProcessBlocks(new StatsZone())
    expect(p.put(ProcessBlocks.blockOf('primary'), 11, 'primary text', 5)).toBe(true)
    expect(p.put(ProcessBlocks.blockOf(1), 12, 'worker 1', 6)).toBe(true)
    expect(p.put(ProcessBlocks.blockOf(1), 12, 'x'.repeat(64 * 1024))).toBe(false)
    expect(p.all()).toEqual([{ block: 0, pid: 11, time: 5, text: 'primary text' }, { block: 2, pid: 12, time: 6, text: 'worker 1' }])
  })

  it('interpolates p50/p99 inside the bucket', () => {
    const b = new Array(16).fill(0)
    b[3] = 100 // (5 ms, 10 ms]
    expect(quantileMs(b, 0.5)).toBe(7.5)
    expect(quantileMs(new Array(16).fill(0), 0.5)).toBeNull()
  })
})
