/**
 * A `state` zone too small for every health record: writes that do not fit never evict
 * other records (an evicted record reads as ok), they are counted in getStatus
 * (`state_write_errors`) and logged, rate-limited. Real heartbeat rounds against real
 * loopback ports (refused connections), a real SharedDict of a few KB.
 */
import { describe, expect, it } from 'vitest'
import { SharedDict } from '@checkups/shdict'
import { Checkups, KEY, decodeRecord, type HeartbeatRecord, type Logger } from '@checkups/core'
import { deadPort, fakeClock } from './helpers.js'

interface Line { level: string; msg: string; fields: Record<string, unknown> | undefined }
function recorder(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = []
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => { lines.push({ level, msg, fields }) }
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } }
}

function setup(stateBytes: number, config: Record<string, unknown>, logger: Logger) {
  const zones = {
    state: SharedDict.create(stateBytes), mutex: SharedDict.create(1 << 16),
    locks: SharedDict.create(1 << 16), config: SharedDict.create(1 << 20),
  }
  const clock = fakeClock()
  new Checkups({ shared: zones, clock }).init(config)
  const c = new Checkups({ shared: zones, clock, logger })
  c.prepareChecker(config)
  return { zones, c, clock }
}

describe('a state zone that is too small', () => {
  it('heartbeat: records that do not fit are counted, shown and logged once per window; none evicts another', async () => {
    const port = await deadPort()
    // 200 unreachable peers: far more records than 8 KB can hold
    const servers = Array.from({ length: 200 }, (_, i) => ({ host: `127.0.0.${1 + (i % 200)}`, port }))
    const config = { global: { checkup_timer_interval: 5 }, ups: { timeout: 1, cluster: [{ servers }] } }
    const { lines, logger } = recorder()
    const { zones, c } = setup(8 * 1024, config, logger)
    c.createChecker()
    try {
      for (let i = 0; i < 200 && !c.isHeartbeatLeader(); i++) await new Promise((r) => setTimeout(r, 5))
      expect(c.isHeartbeatLeader()).toBe(true)
      await c.checkNow()
      await c.checkNow()
      const st = c.getStatus()
      const stored = servers.filter((s) => zones.state.get(KEY.peerStatus('ups', s.host, s.port)) !== undefined)
      expect(stored.length).toBeGreaterThan(0)
      expect(stored.length).toBeLessThan(servers.length)
      // two rounds: each peer without a record failed twice (the round keys may fail too)
      expect(st.state_write_errors.heartbeat).toBeGreaterThanOrEqual(2 * (servers.length - stored.length))
      expect(st.state_write_errors.passive).toBe(0)
      // the records that were stored are still there after the second round (never evicted)
      for (const s of stored) {
        expect(decodeRecord<HeartbeatRecord>(zones.state.get(KEY.peerStatus('ups', s.host, s.port)) as Uint8Array)?.fail_num).toBe(2)
      }
      const errs = lines.filter((l) => l.msg === 'heartbeat: failed to set peer status')
      expect(errs).toHaveLength(1) // the second round's line is within the limiter's window
      expect(errs[0]!.fields).toMatchObject({ err: 'no memory', zone: 'state' })
    } finally {
      await c.stop()
    }
  })

  it('passive: a failure that cannot be stored is counted, shown and logged once per window', () => {
    const servers = Array.from({ length: 300 }, (_, i) => ({ host: '127.0.0.1', port: 2000 + i, max_fails: 5 }))
    const config = { global: { default_heartbeat_enable: false }, ups: { cluster: [{ servers }] } }
    const { lines, logger } = recorder()
    const { zones, c, clock } = setup(8 * 1024, config, logger)
    for (const s of servers) c.feedbackStatus('ups', s.host, s.port, true)
    const stored = servers.filter((s) => zones.state.get(KEY.passive('ups', s.host, s.port)) !== undefined).length
    expect(stored).toBeGreaterThan(0)
    const st = c.getStatus()
    expect(st.state_write_errors.passive).toBe(servers.length - stored)
    expect(lines.filter((l) => l.msg === 'passive: failed to set peer status')).toHaveLength(1)
    clock.advance(10_001)
    c.feedbackStatus('ups', '127.0.0.1', 2000 + servers.length - 1, true)
    const after = lines.filter((l) => l.msg === 'passive: failed to set peer status')
    expect(after).toHaveLength(2)
    expect(after[1]!.fields?.['suppressed']).toBe(servers.length - stored - 1)
  })
})
