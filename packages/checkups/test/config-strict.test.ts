/**
 * Strict config input: unknown keys are errors with the dotted path and the nearest known
 * option, every number has a stated range, hosts are validated, weights are any int32, and
 * the consistent-hash ring stays bounded whatever the weights.
 */
import { describe, expect, it } from 'vitest'
import { CheckupsError, ConsistentHash, RoundRobin, defineConfig, resolveConfig, resolveUpstream, type ConfigWarning } from '@checkups/core'

const H = '127.0.0.1'
const err = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(CheckupsError)
    return `${(e as CheckupsError).code}: ${(e as Error).message}`
  }
  return 'no error'
}

describe('unknown keys', () => {
  it.each<[string, unknown, string]>([
    ['server key', { api: { cluster: [{ servers: [{ host: H, port: 1 }, { host: H, port: 2, wieght: 3 }] }] } },
      'api.cluster[0].servers[1].wieght: unknown option (did you mean "weight"?)'],
    ['level key', { api: { cluster: [{ servres: [] }] } }, 'api.cluster[0].servres: unknown option (did you mean "servers"?)'],
    ['named cluster key', { api: { cluster: { dc1: { servers: [], upstream_skip_dwn: true } } } },
      'api.cluster.dc1.upstream_skip_dwn: unknown option (did you mean "upstream_skip_down"?)'],
    ['upstream key', { api: { tiemout: 3, cluster: [{ servers: [] }] } }, 'api.tiemout: unknown option (did you mean "timeout"?)'],
    ['http_opts key', { api: { http_opts: { statues: {} }, cluster: [{ servers: [] }] } }, 'api.http_opts.statues: unknown option (did you mean "statuses"?)'],
    ['global key', { global: { checkup_timer_intreval: 1 } }, 'global.checkup_timer_intreval: unknown option (did you mean "checkup_timer_interval"?)'],
    ['no near option', { api: { cluster: [{ servers: [{ host: H, port: 1, zzzzzz: 1 }] }] } }, 'api.cluster[0].servers[0].zzzzzz: unknown option'],
    ['two unknown keys', { api: { cluster: [{ servers: [{ host: H, port: 1, wieght: 1, prot: 2 }] }] } },
      'api.cluster[0].servers[0].wieght: unknown option (did you mean "weight"?); api.cluster[0].servers[0].prot: unknown option (did you mean "port"?)'],
  ])('%s', (_name, raw, message) => {
    expect(err(() => resolveConfig(raw))).toBe(`CKP_ERR_INVALID_CONFIG: ${message}`)
  })

  it('a dynamic update refuses them with CKP_ERR_INVALID_UPSTREAM', () => {
    expect(err(() => resolveUpstream('api', { cluster: [{ servers: [{ host: H, port: 1, wieght: 2 }] }] }, { code: 'CKP_ERR_INVALID_UPSTREAM' })))
      .toBe('CKP_ERR_INVALID_UPSTREAM: api.cluster[0].servers[0].wieght: unknown option (did you mean "weight"?)')
  })

  it("a level's try (shown in the original's README) is accepted, ignored and warned about", () => {
    const warnings: string[] = []
    const onWarning: ConfigWarning = (m) => warnings.push(m)
    const cfg = resolveConfig({ api: { cluster: [{ try: 2, servers: [{ host: H, port: 1 }] }] } }, { onWarning })
    expect(cfg.upstreams.api!.try).toBeNull()
    expect(cfg.upstreams.api!.cluster).toEqual([{ servers: [{ host: H, port: 1, weight: 1, max_fails: 0, fail_timeout: 10 }], upstream: null, upstream_only_backup: false, upstream_skip_down: false }])
    expect(warnings).toEqual(["api.cluster[0].try: ignored (lua-resty-checkups ignores a level's try too; set try on the upstream)"])
  })

  it("a level's try_timeout (also in the original's README) is ignored the same way", () => {
    const warnings: string[] = []
    resolveConfig({ api: { cluster: { dc1: { try_timeout: 3, servers: [] } } } }, { onWarning: (m) => warnings.push(m) })
    expect(warnings).toEqual(["api.cluster.dc1.try_timeout: ignored (lua-resty-checkups ignores a level's try_timeout too; set try_timeout on the upstream)"])
  })

  it('defineConfig returns its argument', () => {
    const c = { api: { cluster: [{ servers: [{ host: H, port: 80, weight: 2 }] }] } }
    expect(defineConfig(c)).toBe(c)
  })
})

const one = (s: Record<string, unknown>, u: Record<string, unknown> = {}) => ({ api: { ...u, cluster: [{ servers: [{ host: H, port: 80, ...s }] }] } })

describe('ranges', () => {
  const S = 'must be a number of seconds 0.001-2147483.647'
  it.each<[string, unknown, string]>([
    ['timeout 1e-9 would round to 0 ms (no timeout)', one({}, { timeout: 1e-9 }), `api.timeout: ${S}`],
    ['timeout beyond a 32-bit timer', one({}, { timeout: 3e6 }), `api.timeout: ${S}`],
    ['read_timeout Infinity', one({}, { read_timeout: Infinity }), `api.read_timeout: ${S}`],
    ['send_timeout NaN', one({}, { send_timeout: Number.NaN }), `api.send_timeout: ${S}`],
    ['fail_timeout tiny', one({ fail_timeout: 1e-5 }), `api.cluster[0].servers[0].fail_timeout: ${S}`],
    ['try_timeout negative', one({}, { try_timeout: -1 }), 'api.try_timeout: must be 0 (off) or a number of seconds 0.001-2147483.647'],
    ['interval huge', { global: { checkup_timer_interval: 1e12 } }, `global.checkup_timer_interval: ${S}`],
    ['weight above int32', one({ weight: 2 ** 31 }), 'api.cluster[0].servers[0].weight: must be an integer 1-2147483647'],
    ['max_fails above int32', one({ max_fails: 2 ** 31 }), 'api.cluster[0].servers[0].max_fails: must be an integer 0-2147483647'],
    ['sensibility 0', one({}, { sensibility: 0 }), 'api.sensibility: must be an integer 1-1000000'],
  ])('%s', (_name, raw, message) => {
    expect(err(() => resolveConfig(raw))).toBe(`CKP_ERR_INVALID_CONFIG: ${message}`)
  })

  it('the limits themselves are accepted', () => {
    const cfg = resolveConfig(one({ weight: 2 ** 31 - 1, max_fails: 2 ** 31 - 1, fail_timeout: 0.001 }, { timeout: 2147483.647, try_timeout: 0 }))
    expect(cfg.upstreams.api!.timeout).toBe(2147483.647)
    expect(cfg.upstreams.api!.try_timeout).toBe(0)
  })
})

describe('hosts', () => {
  it.each<[string, string, string]>([
    ['CR/LF', 'a.example\r\nX-Injected: 1', 'must not contain spaces or control characters (CR, LF, ...)'],
    ['a space', 'a b', 'must not contain spaces or control characters (CR, LF, ...)'],
    ['a lone surrogate', 'a\uD800b', 'must be well-formed text (it holds a lone surrogate)'],
    ['host:port', '127.0.0.1:8080', 'must be a hostname or an IP address without a port (give the port as `port`)'],
    ['name:port', 'backend:80', 'must be a hostname or an IP address without a port (give the port as `port`)'],
    ['a slash', 'a/b', 'must be a hostname (letters, digits, "-", "_", ".") or an IP address'],
    ['too long', `${'a'.repeat(250)}.com`, 'must be at most 253 characters'],
  ])('%s is refused', (_name, host, message) => {
    expect(err(() => resolveConfig(one({ host })))).toBe(`CKP_ERR_INVALID_CONFIG: api.cluster[0].servers[0].host: ${message}`)
  })

  it.each(['127.0.0.1', '::1', '[::1]', 'localhost', 'backend-1.svc.cluster.local', 'under_score', 'fqdn.example.'])('%s is accepted', (host) => {
    expect(resolveConfig(one({ host })).upstreams.api!.cluster).toBeTruthy()
  })
})

describe('weights as the original accepts them (3 000 and 3 200 000 in one cluster)', () => {
  const peers = [{ id: 'a', weight: 3000 }, { id: 'b', weight: 3_200_000 }, { id: 'c', weight: 2 ** 31 - 1 }]

  it('WRR stays exact: over one full cycle every peer is picked exactly its weight', () => {
    const small = [{ id: 'a', weight: 3 }, { id: 'b', weight: 3200 }]
    const rr = new RoundRobin(small)
    const avail = new Uint8Array([1, 1])
    const counts = [0, 0]
    for (let i = 0; i < 3203; i++) counts[rr.pick(avail)]!++
    expect(counts).toEqual([3, 3200])
    const big = new RoundRobin(peers)
    const all = new Uint8Array([1, 1, 1])
    // the smooth WRR sums stay integers far below 2^53: the first picks follow the weights
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) seen.add(big.pick(all))
    expect([...seen].sort()).toEqual([1, 2])
  })

  it('the hash ring is bounded and its shares follow the weights', () => {
    const ring = new ConsistentHash(peers)
    expect(ring.size).toBeLessThanOrEqual((1 << 20) + peers.length)
    const avail = new Uint8Array([1, 1, 1])
    const counts = [0, 0, 0]
    for (let i = 0; i < 20_000; i++) counts[ring.pick(avail, `k${i}`)]!++
    expect(counts[2]! / 20_000).toBeGreaterThan(0.99)
    expect(counts[1]).toBeGreaterThan(0)
    expect(new ConsistentHash([{ id: 'a', weight: 3000 }, { id: 'b', weight: 6000 }]).size).toBe(new ConsistentHash([{ id: 'a', weight: 1 }, { id: 'b', weight: 2 }]).size)
  })

  it('the config accepts them', () => {
    const cfg = resolveConfig({ api: { cluster: [{ servers: [{ host: H, port: 1, weight: 3000 }, { host: H, port: 2, weight: 3_200_000 }] }] } })
    expect(cfg.upstreams.api!.cluster).toHaveLength(1)
  })
})
