/**
 * The original's passive rules: max_fails / fail_timeout, "last ok server" protection, shared by all
 * workers through the state zone. Fake clock for fail_timeout.
 */
import { describe, expect, it } from 'vitest'
import { Checkups, CheckupsError, KEY, STATUS_ERR, decodeRecord, type PassiveRecord } from '@checkups/core'
import { fakeClock, makeZones, prepared } from './helpers.js'

const H = '127.0.0.1'
const rec = (c: Checkups, port: number, skey = 'ups') =>
  decodeRecord<PassiveRecord>(c.zones.state.get(KEY.passive(skey, H, port)) as Uint8Array | undefined)

function picks(c: Checkups, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) {
    try {
      s += String(c.selectPeer('ups').port - 1000)
    } catch {
      s += '-'
    }
  }
  return s
}

const cfg = (servers: object[]) => ({ ups: { cluster: [{ servers }] } })
const srv = (port: number, max_fails: number, fail_timeout = 10) => ({ host: H, port, max_fails, fail_timeout })

describe('passive accounting', () => {
  it('max_fails 0 (the default) disables accounting: no record, never err', () => {
    const c = prepared(cfg([{ host: H, port: 1001 }, { host: H, port: 1002 }]))
    for (let i = 0; i < 5; i++) c.feedbackStatus('ups', H, 1001, true)
    expect(rec(c, 1001)).toBeUndefined()
    expect(picks(c, 4)).toBe('1212')
  })

  it.each<[string, number, number, string]>([
    ['err at count >= max_fails', 2, 2, '2222'],
    ['below max_fails stays ok', 3, 2, '1212'],
  ])('%s', (_n, maxFails, failures, expected) => {
    const clock = fakeClock()
    const c = prepared(cfg([srv(1001, maxFails), srv(1002, 0)]), { clock })
    for (let i = 0; i < failures; i++) c.feedbackStatus('ups', H, 1001, true)
    expect(rec(c, 1001)).toEqual({ status: failures >= maxFails ? STATUS_ERR : 0, count: failures, since: clock.now() })
    expect(picks(c, 4)).toBe(expected)
  })

  it('reads err only while since + fail_timeout > now, then the record is reset by the next report', () => {
    const clock = fakeClock()
    const t0 = clock.now()
    const c = prepared(cfg([srv(1001, 2, 10), srv(1002, 0)]), { clock })
    c.feedbackStatus('ups', H, 1001, true)
    clock.advance(4000)
    c.feedbackStatus('ups', H, 1001, true) // window started at t0: err until t0 + 10 s
    expect(picks(c, 2)).toBe('22')
    clock.advance(5999)
    expect(picks(c, 2)).toBe('22')
    clock.advance(1)
    expect(picks(c, 4)).toBe('1212')
    expect(rec(c, 1001)).toEqual({ status: STATUS_ERR, count: 2, since: t0 }) // stored as is
    clock.advance(1)
    c.feedbackStatus('ups', H, 1001, true)
    expect(rec(c, 1001)).toEqual({ status: 0, count: 1, since: t0 + 10_001 })
  })

  it('failures spread over more than fail_timeout do not add up', () => {
    const clock = fakeClock()
    const c = prepared(cfg([srv(1001, 2, 10), srv(1002, 0)]), { clock })
    c.feedbackStatus('ups', H, 1001, true)
    clock.advance(10_001)
    c.feedbackStatus('ups', H, 1001, true)
    expect(rec(c, 1001)?.count).toBe(1)
    expect(picks(c, 2)).toBe('12')
  })

  it('a success never clears count or status', () => {
    const clock = fakeClock()
    const c = prepared(cfg([srv(1001, 2), srv(1002, 0)]), { clock })
    c.feedbackStatus('ups', H, 1001, true)
    c.feedbackStatus('ups', H, 1001, false)
    expect(rec(c, 1001)?.count).toBe(1)
    c.feedbackStatus('ups', H, 1001, true)
    c.feedbackStatus('ups', H, 1001, false)
    expect(rec(c, 1001)).toMatchObject({ status: STATUS_ERR, count: 2 })
  })

  it('a report creates the record { ok, 0, now } even on success', () => {
    const clock = fakeClock()
    const c = prepared(cfg([srv(1001, 1)]), { clock })
    c.feedbackStatus('ups', H, 1001, false)
    expect(rec(c, 1001)).toEqual({ status: 0, count: 0, since: clock.now() })
  })

  it('the last ok server of the skey is never made err', () => {
    const c = prepared(cfg([srv(1001, 1), srv(1002, 1)]))
    c.feedbackStatus('ups', H, 1002, true)
    expect(rec(c, 1002)?.status).toBe(STATUS_ERR)
    c.feedbackStatus('ups', H, 1001, true)
    c.feedbackStatus('ups', H, 1001, true)
    expect(rec(c, 1001)).toMatchObject({ status: 0, count: 2 })
    expect(picks(c, 3)).toBe('111')
  })

  it('servers of other clusters count as alternatives; an expired err record does not', () => {
    const clock = fakeClock()
    const c = prepared({ ups: { cluster: [{ servers: [srv(1001, 1)] }, { servers: [srv(1002, 1, 1)] }] } }, { clock })
    c.feedbackStatus('ups', H, 1002, true) // 1002 err for 1 s (1001 has no record: an alternative)
    clock.advance(5000) // 1002's record expired but still stored as err
    c.feedbackStatus('ups', H, 1001, true)
    expect(rec(c, 1001)?.status).toBe(0)
  })

  it('feedbackStatus errors', () => {
    const c = prepared(cfg([srv(1001, 1)]))
    const e1 = catchErr(() => c.feedbackStatus('nope', H, 1001, true))
    expect([e1.code, e1.message]).toEqual(['CKP_ERR_UNKNOWN_SKEY', 'unknown skey nope'])
    const e2 = catchErr(() => c.feedbackStatus('ups', H, 9999, true))
    expect([e2.code, e2.message]).toEqual(['CKP_ERR_UNKNOWN_PEER', 'unknown host:port127.0.0.1:9999'])
  })

  it('readyOk reports both outcomes: a failing peer reaches max_fails across calls', async () => {
    const clock = fakeClock()
    const c = prepared(cfg([srv(1001, 2), srv(1002, 2)]), { clock })
    const run = () => c.readyOk('ups', (_h, port) => (port === 1001 ? null : port), { try: 1 }).catch(() => 'err')
    const out = []
    for (let i = 0; i < 6; i++) out.push(await run())
    // WRR: 1001 (fail 1), 1002, 1001 (fail 2 → err), then only 1002
    expect(out).toEqual(['err', 1002, 'err', 1002, 1002, 1002])
    expect(rec(c, 1001)).toMatchObject({ status: STATUS_ERR, count: 2 })
    expect(rec(c, 1002)).toEqual({ status: 0, count: 0, since: clock.now() })
  })

  it('two workers on the same zones share the accounting', () => {
    const zones = makeZones()
    const config = cfg([srv(1001, 2), srv(1002, 0)])
    new Checkups({ shared: zones }).init(config)
    const w0 = new Checkups({ shared: zones, worker: { id: 0, count: 2, pid: 1 } })
    const w1 = new Checkups({ shared: zones, worker: { id: 1, count: 2, pid: 2 } })
    w0.prepareChecker(config)
    w1.prepareChecker(config)
    w0.feedbackStatus('ups', H, 1001, true)
    expect(picks(w1, 2)).toBe('12')
    w1.feedbackStatus('ups', H, 1001, true)
    expect(picks(w0, 2)).toBe('22')
    expect(picks(w1, 2)).toBe('22')
  })
})

function catchErr(fn: () => void): CheckupsError {
  try {
    fn()
  } catch (e) {
    return e as CheckupsError
  }
  throw new Error('no error')
}
