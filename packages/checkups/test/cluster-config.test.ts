/**
 * `global.cluster_store` at the boundary, the primary's apply path of the sync agent
 * (DynamicApi.applyRemote: one version bump, a bad entry skipped, a snapshot replaces), and a
 * worker's write with the store unreachable (refused, nothing changed). The whole fleet
 * (three apps/server nodes, a real redis-server) is test/cluster-nodes.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { Checkups, CheckupsError, resolveConfig } from '@checkups/core'
import { freePort } from '../../../test/fixtures/net.js'
import { makeZones } from './helpers.js'

const H = '127.0.0.1'
const up = (port: number) => ({ cluster: [{ servers: [{ host: H, port }] }] })

function message(cs: unknown): string {
  try {
    return JSON.stringify(resolveConfig({ global: { cluster_store: cs } }).global.cluster_store)
  } catch (err) {
    return `${(err as CheckupsError).code}: ${(err as Error).message}`
  }
}

describe('global.cluster_store', () => {
  it('is absent unless set (a node alone is unchanged)', () => {
    expect('cluster_store' in resolveConfig({}).global).toBe(false)
  })

  it.each<[string, unknown, string]>([
    ['a URL', { redis: 'redis://127.0.0.1:6379' }, '{"redis":"redis://127.0.0.1:6379","namespace":"default","tls":false,"username":null,"password":null}'],
    ['Sentinels', { redis: { sentinels: [{ host: H, port: '26379' }], name: 'm' }, namespace: 'prod', password: 'pw' },
      '{"redis":{"sentinels":[{"host":"127.0.0.1","port":26379}],"name":"m"},"namespace":"prod","tls":false,"username":null,"password":"pw"}'],
    ['another scheme', { redis: 'http://127.0.0.1:6379' }, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.redis: must be redis://host:port or rediss://host:port, got "http://127.0.0.1:6379"'],
    ['a password in the URL', { redis: 'redis://u:p@127.0.0.1:6379' }, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.redis: must be redis://host:port or rediss://host:port, got "redis://u:p@127.0.0.1:6379"'],
    ['a database path', { redis: 'redis://127.0.0.1:6379/2' }, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.redis: must be redis://host:port or rediss://host:port, got "redis://127.0.0.1:6379/2"'],
    ['no sentinel', { redis: { sentinels: [], name: 'm' } }, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.redis.sentinels: must list at least one sentinel'],
    ['a bad sentinel port', { redis: { sentinels: [{ host: H, port: 0 }], name: 'm' } }, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.redis.sentinels[0].port: must be an integer 1-65535'],
    ['no master name', { redis: { sentinels: [{ host: H, port: 1 }], name: '' } }, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.redis.name: must be the master name (a non-empty string)'],
    ['no redis', {}, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.redis: must be redis://host:port or { sentinels, name }'],
    ['a bad namespace', { redis: 'redis://a:1', namespace: 'a b' }, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.namespace: must be 1-64 characters of A-Z a-z 0-9 _ . -'],
    ['a misspelt key', { redis: 'redis://a:1', tsl: true }, 'CKP_ERR_INVALID_CONFIG: global.cluster_store.tsl: unknown option (did you mean "tls"?)'],
    ['not an object', 'redis://a:1', 'CKP_ERR_INVALID_CONFIG: global.cluster_store: must be an object'],
  ])('%s', (_n, cs, expected) => {
    expect(message(cs)).toBe(expected)
  })
})

describe('the primary applies the store (applyRemote)', () => {
  it('a change is one version bump; an entry that does not validate is skipped and the rest applied', async () => {
    const zones = makeZones()
    const cfg = { api: up(1001) }
    const primary = new Checkups({ shared: zones })
    primary.init(cfg)
    const worker = new Checkups({ shared: zones })
    worker.prepareChecker(cfg)
    const v0 = worker.dynamic.version()
    await primary.dynamic.applyRemote({ web: up(1002), bad: { cluster: 'x' } }, false)
    expect(worker.dynamic.version()).toBe(v0 + 1)
    expect(Object.keys(worker.getUpstream()).sort()).toEqual(['api', 'web'])
    await primary.dynamic.applyRemote({ web: null }, false)
    expect(Object.keys(worker.getUpstream())).toEqual(['api'])
    // a single change is this node's config event (recorded by the primary that applied it)
    const events = primary.observer.events.read(0).events.filter((e) => e.type === 'config')
    expect(events.map((e) => [(e as { op?: string }).op, (e as { upstream?: string }).upstream])).toEqual([['delete', 'web']])
    // a snapshot replaces the whole set: the file's api is gone, a bad entry keeps nothing new
    await primary.dynamic.applyRemote({ web: up(1003) }, true)
    expect(Object.keys(worker.getUpstream())).toEqual(['web'])
    expect(worker.getUpstream('web')?.cluster).toMatchObject([{ servers: [{ host: H, port: 1003 }] }])
  })
})

describe('a worker with a cluster store', () => {
  it('Redis unreachable: the write is refused (CKP_ERR_STORE_UNAVAILABLE) and nothing changes here', async () => {
    const port = await freePort() // nothing listens there
    const cfg = { global: { cluster_store: { redis: `redis://127.0.0.1:${port}` } }, api: up(1001) }
    const zones = makeZones()
    new Checkups({ shared: zones }).init(cfg)
    const worker = new Checkups({ shared: zones })
    worker.prepareChecker(cfg)
    const v0 = worker.dynamic.version()
    await expect(worker.updateUpstream('api', up(1002))).rejects.toMatchObject({ code: 'CKP_ERR_STORE_UNAVAILABLE' })
    await expect(worker.dynamic.addServer('api', { host: H, port: 1003 })).rejects.toMatchObject({ code: 'CKP_ERR_STORE_UNAVAILABLE' })
    expect(worker.dynamic.version()).toBe(v0)
    expect(worker.getUpstream('api')?.cluster).toMatchObject([{ servers: [{ host: H, port: 1001 }] }])
    // invalid input is refused before the store is asked
    await expect(worker.updateUpstream('api', {})).rejects.toMatchObject({ code: 'CKP_ERR_INVALID_UPSTREAM' })
  })
})
