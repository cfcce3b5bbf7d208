/** getStatus() shape, getUpsTimeout, the sync timer, nginx upstream blocks. */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Checkups, KEY, SLOT, STATUS_ERR, STATUS_UNSTABLE, encodeRecord, localtime } from '@checkups/core'
import { fakeClock, makeZones, prepared } from './helpers.js'

const H = '127.0.0.1'

describe('getStatus', () => {
  it('the original\'s shape plus passive fields and the heartbeat leader', () => {
    const clock = fakeClock()
    const zones = makeZones()
    const config = {
      global: { conf_hash: 'c0ffee' },
      ups: { cluster: [{ servers: [{ host: H, port: 1001, weight: 3, max_fails: 1 }, { host: H, port: 1002 }] }, { servers: [{ host: H, port: 1003 }] }] },
      named: { enable: false, cluster: { dc1: { servers: [{ host: H, port: 2001 }] } } },
    }
    new Checkups({ shared: zones, clock }).init(config)
    const c = new Checkups({ shared: zones, clock, worker: { id: 0, count: 2, pid: 11 } })
    c.prepareChecker(config)
    zones.state.set(KEY.peerStatus('ups', H, 1002), encodeRecord({ status: STATUS_ERR, fail_num: 2, lastmodified: 1.5, msg: 'connection refused' }))
    zones.state.set(KEY.peerStatus('ups', H, 1003), encodeRecord({ status: STATUS_UNSTABLE, fail_num: 0, lastmodified: 2, msg: null, redis_version: '7' }))
    zones.state.set(KEY.peerStatus('named', H, 2001), encodeRecord({ status: STATUS_ERR, fail_num: 1, lastmodified: 3, msg: 'x' }))
    zones.state.addSlot(SLOT.STATE_HEARTBEAT_VERSION, 1)
    zones.state.set(KEY.LAST_CHECK_TIME, '2024-01-01 00:00:00')
    zones.state.set(KEY.TIMER_ALIVE, true)
    zones.mutex.set(KEY.HEARTBEAT_LEASE, encodeRecord({ worker: 1, pid: 12, since: 5 }))
    c.feedbackStatus('ups', H, 1001, true)
    const st = c.getStatus()
    expect(st).toEqual({
      'cls:ups': [
        [
          { server: `ups:${H}:1001`, status: 'ok', weight: 3, max_fails: 1, fail_timeout: 10,
            passive: { status: 'err', count: 1, since: clock.now() / 1000 } },
          { server: `ups:${H}:1002`, status: 'err', weight: 1, max_fails: 0, fail_timeout: 10, fail_num: 2, lastmodified: localtime(1.5 * 1000), msg: 'connection refused' },
        ],
        [{ server: `ups:${H}:1003`, status: 'unstable', weight: 1, max_fails: 0, fail_timeout: 10, fail_num: 0, lastmodified: localtime(2 * 1000), msg: null, redis_version: '7' }],
      ],
      'cls:named': { dc1: [{ server: `named:${H}:2001`, status: 'unchecked', weight: 1, max_fails: 0, fail_timeout: 10, fail_num: 1, lastmodified: localtime(3 * 1000), msg: 'x' }] },
      last_check_time: '2024-01-01 00:00:00',
      checkup_timer_alive: true,
      start_time: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      conf_hash: 'c0ffee',
      shd_config_version: 0,
      config_timer: { 'worker-0': 'dead', 'worker-1': 'dead' },
      heartbeat_leader: { worker: 1, pid: 12, since: 5 },
      state_write_errors: { heartbeat: 0, passive: 0 },
    })
    expect(JSON.parse(JSON.stringify(st))).toEqual({ ...st, start_time: st.start_time })
  })

  it('defaults before any heartbeat', () => {
    const st = prepared({ ups: { cluster: [{ servers: [] }] } }).getStatus()
    expect([st.last_check_time, st.checkup_timer_alive, st.heartbeat_leader, st['cls:ups']]).toEqual([null, false, undefined, [[]]])
  })
})

it('getUpsTimeout: [timeout, send_timeout ?? timeout, read_timeout ?? timeout]', () => {
  const c = prepared({ a: { cluster: [{ servers: [] }] }, b: { timeout: 2, read_timeout: 15, cluster: [{ servers: [] }] } })
  expect(c.getUpsTimeout('a')).toEqual([5, 5, 5])
  expect(c.getUpsTimeout('b')).toEqual([2, 2, 15])
  expect(c.getUpsTimeout('nope')).toBeUndefined()
})

it('createChecker: the sync timer keeps config_timer alive; stop() clears it', async () => {
  const clock = fakeClock()
  const zones = makeZones()
  const config = { global: { shd_config_timer_interval: 1, default_heartbeat_enable: false }, ups: { cluster: [{ servers: [] }] } }
  new Checkups({ shared: zones, clock }).init(config)
  const c = new Checkups({ shared: zones, clock, worker: { id: 1, count: 2, pid: process.pid } })
  c.prepareChecker(config)
  c.createChecker()
  expect(c.getStatus().config_timer).toEqual({ 'worker-0': 'dead', 'worker-1': 'alive' })
  clock.advance(5000)
  expect(c.getStatus().config_timer['worker-1']).toBe('alive')
  await c.stop()
  expect(c.getStatus().config_timer['worker-1']).toBe('dead')
})

describe('nginx upstream blocks', () => {
  const dir = fileURLToPath(new URL('./fixtures/', import.meta.url))
  const config = {
    global: { nginx_conf: 'nginx.conf', ups_status_sync_enable: true },
    ups_from_nginx: { timeout: 2, cluster: [{ upstream: 'api.com' }, { upstream: 'api.com', upstream_only_backup: true }] },
    skip_down: { cluster: [{ upstream: 'api.com', upstream_skip_down: true }] },
  }
  const make = () => {
    const zones = makeZones()
    new Checkups({ shared: zones, configDir: dir }).init(config)
    const c = new Checkups({ shared: zones, configDir: dir })
    c.prepareChecker(config)
    return c
  }

  it('levels take their servers from the block (nginx defaults: weight 1, max_fails 1, fail_timeout 10)', () => {
    const c = make()
    const servers = (skey: string) => (c.getUpstream(skey)!.cluster as { servers: object[] }[]).map((l) => l.servers)
    expect(servers('ups_from_nginx')).toEqual([
      [{ host: H, port: 12354, weight: 2, max_fails: 3, fail_timeout: 30 }, { host: H, port: 12355, weight: 1, max_fails: 1, fail_timeout: 10 },
        { host: H, port: 12357, weight: 1, max_fails: 1, fail_timeout: 10 }],
      [{ host: H, port: 12356, weight: 1, max_fails: 1, fail_timeout: 10 }],
    ])
    expect(servers('skip_down')[0]!.map((s) => (s as { port: number }).port)).toEqual([12354, 12355])
  })

  it('getUpstreamPeers: primary/backup, down from the file and from checkups\' status', () => {
    const c = make()
    expect(c.getUpstreamPeers('nope')).toBeUndefined()
    expect(c.getUpstreamPeers('api.com')).toEqual({
      primary: [
        { name: `${H}:12354`, weight: 2, max_fails: 3, fail_timeout: 30 },
        { name: `${H}:12355`, weight: 1, max_fails: 1, fail_timeout: 10 },
        { name: `${H}:12357`, weight: 1, max_fails: 1, fail_timeout: 10 },
      ],
      backup: [{ name: `${H}:12356`, weight: 1, max_fails: 1, fail_timeout: 10 }],
    })
    c.zones.state.set(KEY.peerStatus('ups_from_nginx', H, 12355), encodeRecord({ status: STATUS_ERR, fail_num: 1, lastmodified: 0, msg: null }))
    expect(c.getUpstreamPeers('api.com')!.primary[1]).toEqual({ name: `${H}:12355`, weight: 1, max_fails: 1, fail_timeout: 10, down: true })
  })
})
