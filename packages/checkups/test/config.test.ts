import { describe, expect, it } from 'vitest'
import { CheckupsError, resolveConfig } from '@checkups/core'
import { thrownBy } from '../../../test/fixtures/thrown.js'

const ups = (cluster: unknown, extra: Record<string, unknown> = {}) => ({ ups1: { ...extra, cluster } })
const srv = (s: Record<string, unknown>) => ups([{ servers: [{ host: '127.0.0.1', port: 80 }, s] }])

describe('config errors carry a dotted path (CKP_ERR_INVALID_CONFIG)', () => {
  it.each<[string, unknown, string]>([
    ['port not a number', srv({ host: 'h', port: 'x' }), 'ups1.cluster[0].servers[1].port: must be an integer 1-65535'],
    ['port out of range', srv({ host: 'h', port: 70000 }), 'ups1.cluster[0].servers[1].port: must be an integer 1-65535'],
    ['port zero', srv({ host: 'h', port: 0 }), 'ups1.cluster[0].servers[1].port: must be an integer 1-65535'],
    ['port fraction', srv({ host: 'h', port: 80.5 }), 'ups1.cluster[0].servers[1].port: must be an integer 1-65535'],
    ['port missing', srv({ host: 'h' }), 'ups1.cluster[0].servers[1].port: must be an integer 1-65535'],
    ['host missing', srv({ port: 81 }), 'ups1.cluster[0].servers[1].host: must be a non-empty string'],
    ['host empty', srv({ host: '', port: 81 }), 'ups1.cluster[0].servers[1].host: must be a non-empty string'],
    ['weight not numeric', srv({ host: 'h', port: 81, weight: 'heavy' }), 'ups1.cluster[0].servers[1].weight: must be an integer 1-2147483647'],
    ['weight zero', srv({ host: 'h', port: 81, weight: 0 }), 'ups1.cluster[0].servers[1].weight: must be an integer 1-2147483647'],
    ['max_fails negative', srv({ host: 'h', port: 81, max_fails: -1 }), 'ups1.cluster[0].servers[1].max_fails: must be an integer 0-2147483647'],
    ['fail_timeout zero', srv({ host: 'h', port: 81, fail_timeout: 0 }), 'ups1.cluster[0].servers[1].fail_timeout: must be a number of seconds 0.001-2147483.647'],
    ['server not an object', ups([{ servers: [42] }]), 'ups1.cluster[0].servers[0]: must be an object'],
    ['servers not an array', ups([{ servers: 'x' }]), 'ups1.cluster[0].servers: must be an array of servers'],
    ['empty cluster array', ups([]), 'ups1.cluster: must not be empty'],
    ['empty cluster object', ups({}), 'ups1.cluster: must not be empty'],
    ['cluster a string', ups('x'), 'ups1.cluster: must be an array of levels or an object of named clusters'],
    ['named cluster path', ups({ dc1: { servers: [{ host: 'h', port: -1 }] } }), 'ups1.cluster.dc1.servers[0].port: must be an integer 1-65535'],
    ['unknown mode', ups([{ servers: [] }], { mode: 'random' }), 'ups1.mode: must be one of wrr, hash, url_hash, ip_hash, header_hash, least_conn, p2c'],
    ['unknown typ', ups([{ servers: [] }], { typ: 'ftp' }), 'ups1.typ: must be one of general, redis, mysql, http'],
    ['timeout negative', ups([{ servers: [] }], { timeout: -1 }), 'ups1.timeout: must be a number of seconds 0.001-2147483.647'],
    ['try fraction', ups([{ servers: [] }], { try: 1.5 }), 'ups1.try: must be an integer 0-1000000'],
    ['statuses not booleans', ups([{ servers: [] }], { http_opts: { statuses: { 500: 'no' } } }), 'ups1.http_opts.statuses.500: must be a boolean'],
    ['heartbeat not a function', ups([{ servers: [] }], { heartbeat: 'ping' }), 'ups1.heartbeat: must be a function'],
    ['protected not a boolean', ups([{ servers: [] }], { protected: 'yes' }), 'ups1.protected: must be a boolean'],
    ['global interval', { global: { checkup_timer_interval: 'soon' } }, 'global.checkup_timer_interval: must be a number of seconds 0.001-2147483.647'],
    ['global not an object', { global: 3 }, 'global: must be an object'],
  ])('%s', (_name, raw, message) => {
    const err = thrownBy(() => resolveConfig(raw))
    expect(err).toBeInstanceOf(CheckupsError)
    expect((err as CheckupsError).code).toBe('CKP_ERR_INVALID_CONFIG')
    expect((err as CheckupsError).message).toBe(message)
  })
})

describe('config resolution', () => {
  it('fills the defaults, normalises ports, keeps key order', () => {
    const cfg = resolveConfig({
      global: { checkup_timer_interval: 15 },
      ups1: { cluster: [{ servers: [{ host: '127.0.0.1', port: '8080' }] }] },
      server: { listen: '127.0.0.1:8080' },
      misc: 42,
    })
    expect(cfg.global).toEqual({
      checkup_timer_interval: 15, checkup_timer_overtime: 60, default_heartbeat_enable: true, heartbeat_thread: 'auto', heartbeat_thread_peers: 500,
      checkup_shd_sync_enable: true, shd_config_timer_interval: 15, ups_status_sync_enable: false,
      ups_status_timer_interval: 5, conf_hash: null, nginx_conf: null,
    })
    expect(Object.keys(cfg.upstreams)).toEqual(['ups1'])
    expect(cfg.upstreams.ups1).toEqual({
      enable: null, typ: 'general', timeout: 5, read_timeout: null, send_timeout: null, http_opts: null,
      mode: 'wrr', protected: true, sensibility: 1, try: null, try_timeout: null, name: null, user: null,
      pass: null, charset: null, heartbeat: null, scheme: 'http', tls: null,
      cluster: [{ servers: [{ host: '127.0.0.1', port: 8080, weight: 1, max_fails: 0, fail_timeout: 10 }],
        upstream: null, upstream_only_backup: false, upstream_skip_down: false }],
    })
  })

  it('deep-freezes the result and never mutates the caller\'s object', () => {
    const raw = { ups1: { mode: 'hash', cluster: { dc1: { servers: [{ host: 'h', port: '81' }] } } } }
    const copy = structuredClone(raw)
    const cfg = resolveConfig(raw)
    expect(raw).toEqual(copy)
    expect(Object.isFrozen(raw.ups1)).toBe(false)
    expect(Object.isFrozen(raw.ups1.cluster.dc1.servers[0])).toBe(false)
    expect(Object.isFrozen(cfg)).toBe(true)
    expect(Object.isFrozen(cfg.upstreams.ups1!.cluster)).toBe(true)
    const lvl = (cfg.upstreams.ups1!.cluster as Record<string, { servers: object[] }>).dc1!
    expect(Object.isFrozen(lvl.servers[0])).toBe(true)
    expect(lvl.servers[0]).toEqual({ host: 'h', port: 81, weight: 1, max_fails: 0, fail_timeout: 10 })
  })

  it('keeps custom heartbeat functions by reference', () => {
    const heartbeat = () => 0
    const cfg = resolveConfig({ ups1: { heartbeat, cluster: [{ servers: [] }] } })
    expect(cfg.upstreams.ups1!.heartbeat).toBe(heartbeat)
  })

  it('mode "wrr" is round-robin (the default), the hash modes are accepted', () => {
    for (const mode of ['wrr', 'hash', 'url_hash', 'ip_hash', 'header_hash']) {
      expect(resolveConfig(ups([{ servers: [] }], { mode })).upstreams.ups1!.mode).toBe(mode)
    }
  })

  it('conf_hash: global.conf_hash, else a stable hash of the upstreams', () => {
    expect(resolveConfig({ global: { conf_hash: 'abc' }, ...ups([{ servers: [] }]) }).conf_hash).toBe('abc')
    const a = resolveConfig({ ups1: { cluster: [{ servers: [{ host: 'h', port: 1 }] }] }, ups2: { cluster: [{ servers: [] }] } })
    const b = resolveConfig({ ups1: { cluster: [{ servers: [{ port: '1', host: 'h' }] }] }, ups2: { cluster: [{ servers: [] }] } })
    const c = resolveConfig({ ups1: { cluster: [{ servers: [{ host: 'h', port: 2 }] }] }, ups2: { cluster: [{ servers: [] }] } })
    expect(a.conf_hash).toMatch(/^[0-9a-f]{16}$/)
    expect(a.conf_hash).toBe(b.conf_hash)
    expect(a.conf_hash).not.toBe(c.conf_hash)
  })

  it('an empty server list is allowed at start (the README synopsis starts that way)', () => {
    expect(resolveConfig(ups([{ servers: [] }])).upstreams.ups1!.cluster).toHaveLength(1)
  })
})
