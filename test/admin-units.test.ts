// Pure pieces of the admin API, without processes: the strict JSON parser of request
// bodies, the content-type rule, the route pattern the metrics label with, and the peer counts
// derived from a status object.
import { describe, expect, it } from 'vitest'
import { assertJsonContentType, parseJsonStrict } from '../apps/server/dist/admin/body.js'
import { countPeers } from '../apps/server/dist/admin/metrics.js'
import { parseClusterKey } from '../apps/server/dist/admin/routes/peer.js'
import { Router } from '../apps/server/dist/admin/router.js'

const codeOf = (fn: () => unknown): { code: string; status: number } => {
  try {
    fn()
  } catch (err) {
    const e = err as { code: string; status: number }
    return { code: e.code, status: e.status }
  }
  throw new Error('expected a throw')
}

describe('parseJsonStrict', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['[1,{"b":[true,null]}]', [1, { b: [true, null] }]],
    ['  ', undefined],
    ['"s"', 's'],
  ])('parses %s', (text, value) => {
    expect(parseJsonStrict(text)).toEqual(value)
  })

  it.each([
    ['{"__proto__":{"x":1}}', 'ADM_ERR_BAD_REQUEST'],
    ['{"a":[{"b":{"constructor":1}}]}', 'ADM_ERR_BAD_REQUEST'],
    ['{"prototype":null}', 'ADM_ERR_BAD_REQUEST'],
    ['{"a":', 'ADM_ERR_BAD_JSON'],
    ['{a:1}', 'ADM_ERR_BAD_JSON'],
    ['NaN', 'ADM_ERR_BAD_JSON'],
  ])('refuses %s with 400 %s', (text, code) => {
    expect(codeOf(() => parseJsonStrict(text))).toEqual({ code, status: 400 })
  })

  it('never lets __proto__ reach an object', () => {
    expect(() => parseJsonStrict('{"__proto__":{"polluted":1}}')).toThrow(/"__proto__"/)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })
})

describe('assertJsonContentType', () => {
  it.each([undefined, 'application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json'])(
    'accepts %s',
    (ct) => {
      expect(() => assertJsonContentType(ct === undefined ? {} : { 'content-type': ct })).not.toThrow()
    },
  )
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''])('refuses %s with 415', (ct) => {
    expect(codeOf(() => assertJsonContentType({ 'content-type': ct }))).toEqual({ code: 'ADM_ERR_BAD_REQUEST', status: 415 })
  })
})

describe('router patterns (metrics labels)', () => {
  it('returns the registered pattern, never the raw path', () => {
    const r = new Router()
    const h = () => ({ status: 200, body: null })
    r.add('GET', '/upstreams/:skey/peer', h)
    expect(r.match('GET', '/upstreams/a%20b/peer')).toMatchObject({ pattern: '/upstreams/:skey/peer', params: { skey: 'a b' } })
  })
})

describe('parseClusterKey', () => {
  it('splits names and level numbers', () => {
    expect(parseClusterKey('c1, 2,backup')).toEqual(['c1', 2, 'backup'])
  })
  it('refuses empty items', () => {
    expect(codeOf(() => parseClusterKey('a,,b'))).toEqual({ code: 'ADM_ERR_BAD_REQUEST', status: 400 })
  })
})

describe('countPeers', () => {
  it('counts peers by status for numbered levels and named clusters', () => {
    const status = {
      'cls:a': [[{ status: 'ok' }, { status: 'err' }], [{ status: 'ok' }]],
      'cls:b': { c1: [{ status: 'unstable' }], c2: [{ status: 'unchecked' }, { status: 'unchecked' }] },
      last_check_time: '2026-01-01 00:00:00',
      shd_config_version: 3,
    }
    const counts = countPeers(status)
    expect(Object.fromEntries([...counts].map(([k, m]) => [k, Object.fromEntries(m)]))).toEqual({
      a: { ok: 2, err: 1 },
      b: { unstable: 1, unchecked: 2 },
    })
  })
})
