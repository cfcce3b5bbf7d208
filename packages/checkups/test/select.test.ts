/** selectPeer in hash modes: key sources (opts.hash_key, request path/ip/header) and failover. */
import { describe, expect, it } from 'vitest'
import { KEY, SLOT, STATUS_ERR, encodeRecord, hashKeyOf } from '@checkups/core'
import { prepared } from './helpers.js'

const H = '127.0.0.1'
const ten = Array.from({ length: 10 }, (_, i) => ({ host: H, port: 3001 + i }))

describe('hash key sources', () => {
  const req = { url: '/a/b?x=1', headers: { 'x-hash-key': 'hk' }, socket: { remoteAddress: '10.1.2.3' } }
  it.each<[string, object | undefined, string]>([
    ['hash', { hash_key: 'k1', request: req }, 'k1'],
    ['hash', { request: req }, '/a/b'],
    ['url_hash', { request: req }, '/a/b'],
    ['url_hash', { request: { path: '/p' } }, '/p'],
    ['ip_hash', { request: req }, '10.1.2.3'],
    ['ip_hash', { request: { remoteAddress: '::1' } }, '::1'],
    ['header_hash', { request: req }, 'hk'],
    ['header_hash', { request: { url: '/only-path' } }, '/only-path'],
    ['header_hash', { hash_key: 7 }, '7'],
    ['hash', undefined, ''],
  ])('%s %j → %s', (mode, opts, key) => {
    expect(hashKeyOf(mode as 'hash', opts)).toBe(key)
  })
})

describe('selectPeer with mode hash', () => {
  it('the same key always picks the same peer; a heartbeat err peer fails over to one other peer', () => {
    const c = prepared({ ups: { mode: 'hash', cluster: [{ servers: ten }] } })
    const first = c.selectPeer('ups', { hash_key: 'user-42' })
    for (let i = 0; i < 20; i++) expect(c.selectPeer('ups', { hash_key: 'user-42' })).toEqual(first)
    c.zones.state.set(KEY.peerStatus('ups', H, first.port), encodeRecord({ status: STATUS_ERR, fail_num: 1, lastmodified: 0, msg: null }))
    c.zones.state.addSlot(SLOT.STATE_HEARTBEAT_VERSION, 1)
    const second = c.selectPeer('ups', { hash_key: 'user-42' })
    expect(second.port).not.toBe(first.port)
    for (let i = 0; i < 20; i++) expect(c.selectPeer('ups', { hash_key: 'user-42' })).toEqual(second)
  })

  it('readyOk in hash mode retries the next distinct peer on the ring', async () => {
    const c = prepared({ ups: { mode: 'url_hash', cluster: [{ servers: ten }] } })
    const ports: number[] = []
    await c.readyOk('ups', (_h, port) => (ports.push(port), ports.length === 3 ? port : null), { request: { url: '/x' } })
    expect(new Set(ports).size).toBe(3)
    expect(ports[0]).toBe(c.selectPeer('ups', { request: { url: '/x' } }).port)
  })
})
