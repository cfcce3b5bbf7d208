/**
 * The attempt context readyOk hands its callback: the upstream's timeouts, and report(outcome)
 * through the one funnel (balancer + passive accounting + the recorder). Real loopback sockets
 * for the error-code → outcome mapping; exact pick sequences for the balancer effect.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { Checkups, CheckupsError, type AttemptReport } from '@checkups/core'
import { deadPort, fakeClock, letterOf, makeZones } from './helpers.js'

const S = (letters: string, extra: Record<string, unknown> = {}) =>
  [...letters].map((l) => ({ host: '127.0.0.1', port: 1000 + l.charCodeAt(0) - 64, ...extra }))

function worker(config: unknown, reports: AttemptReport[] = []): Checkups {
  const zones = makeZones()
  const clock = fakeClock()
  new Checkups({ shared: zones, clock }).init(config)
  const c = new Checkups({ shared: zones, clock, onAttempt: (r) => reports.push(r) })
  c.prepareChecker(config)
  return c
}

const picks = (c: Checkups, n: number): string =>
  Array.from({ length: n }, () => letterOf(c.selectPeer('ups').port)).join('')

describe('attempt context', () => {
  it('carries the upstream timeouts in ms (send/read default to timeout)', async () => {
    const c = worker({ ups: { timeout: 2, read_timeout: 7.5, cluster: [{ servers: S('A') }] } })
    const seen = await c.readyOk('ups', (_h, _p, ctx) => ctx.timeouts)
    expect(seen).toEqual({ connect: 2000, send: 2000, read: 7500 })
  })

  it('readyOk reports the outcome it derives, once per attempt, to the recorder', async () => {
    const reports: AttemptReport[] = []
    const c = worker({ ups: { typ: 'http', http_opts: { statuses: { 502: false } }, cluster: [{ servers: S('ABC') }] } }, reports)
    const out = await c.readyOk('ups', (_h, port) => {
      if (letterOf(port) === 'A') return { status: 502 }
      if (letterOf(port) === 'B') return null
      return { status: 200 }
    })
    expect(out).toEqual({ status: 200 })
    expect(reports.map((r) => [letterOf(r.port), r.attempt, r.outcome, r.info.status])).toEqual([
      // every response carries its status (statistics count responses by class), not only a failing one
      ['A', 1, 'http_status', 502], ['B', 2, 'error', undefined], ['C', 3, 'ok', 200],
    ])
  })

  it('maps a real refused connection to connect_error and a reset to reset', async () => {
    const port = await deadPort()
    const reports: AttemptReport[] = []
    const c = worker({ ups: { try: 1, cluster: [{ servers: [{ host: '127.0.0.1', port }] }] } }, reports)
    const refused = c.readyOk('ups', (host, p) => new Promise((resolve, reject) => {
      const s = connect(p, host, () => resolve(s))
      s.on('error', reject)
    }))
    await expect(refused).rejects.toMatchObject({ code: 'CKP_ERR_TRY_LIMIT' })
    await expect(c.readyOk('ups', () => { throw Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })).rejects.toThrow('reset')
    await expect(c.readyOk('ups', () => { throw new Error('other', { cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } }) })).rejects.toThrow('other')
    expect(reports.map((r) => r.outcome)).toEqual(['connect_error', 'reset', 'timeout'])
  })

  it('an explicit report replaces the derived one; client_abort counts neither way', async () => {
    const reports: AttemptReport[] = []
    const cfg = { ups: { cluster: [{ servers: S('AB', { weight: 3, max_fails: 1, fail_timeout: 10 }) }] } }
    const c = worker(cfg, reports)
    const fresh = worker(cfg)
    // the callback succeeds but says the client broke off: no balancer, no passive change
    expect(await c.readyOk('ups', (_h, _p, ctx) => { ctx.report('client_abort'); return 'stop' })).toBe('stop')
    expect(reports.map((r) => [letterOf(r.port), r.outcome])).toEqual([['A', 'client_abort']])
    // the first readyOk picked A on both; the sequences after it match a worker that never heard of it
    fresh.selectPeer('ups')
    expect(picks(c, 12)).toBe(picks(fresh, 12))
    expect(c.getStatus()['cls:ups']).toEqual(fresh.getStatus()['cls:ups'])
  })

  it('a failure reported after the attempt settled (mid-body) reaches the balancer and passive accounting', async () => {
    const cfg = { ups: { cluster: [{ servers: S('AB', { weight: 4, max_fails: 2, fail_timeout: 10 }) }] } }
    const reports: AttemptReport[] = []
    const late = worker(cfg, reports)
    const inline = worker(cfg)
    // `late`: A answered (ok), then its body broke off; `inline`: A failed in the attempt itself
    let ctxA: { report(o: 'body_error'): void } | undefined
    await late.readyOk('ups', (_h, _p, ctx) => { ctxA = ctx; return 'head' })
    ctxA!.report('body_error')
    await inline.readyOk('ups', (_h, port) => (letterOf(port) === 'A' ? null : 'B'))
    expect(reports.map((r) => [letterOf(r.port), r.outcome])).toEqual([['A', 'ok'], ['A', 'body_error']])
    // the same ew halving: identical pick sequences from here on
    expect(picks(late, 16)).toBe(picks(inline, 16))
    const passive = (c: Checkups) => (c.getStatus()['cls:ups'] as { passive?: { count: number } }[][])[0]![0]!.passive?.count
    expect(passive(late)).toBe(1)
    expect(passive(inline)).toBe(1)
  })

  it('refuses an unknown outcome and accounts nothing', async () => {
    const reports: AttemptReport[] = []
    const c = worker({ ups: { cluster: [{ servers: S('A', { max_fails: 1 }) }] } }, reports)
    let thrown: unknown
    await c.readyOk('ups', (_h, _p, ctx) => {
      try { ctx.report('bogus' as 'ok') } catch (e) { thrown = e }
      return 'x'
    })
    expect(thrown).toBeInstanceOf(CheckupsError)
    expect((thrown as CheckupsError).code).toBe('CKP_ERR_INVALID_OUTCOME')
    expect(reports.map((r) => r.outcome)).toEqual(['ok'])
  })
})
