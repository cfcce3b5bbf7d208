// Bad input to the admin API: each request of the table is answered with the
// expected 4xx status and stable error code, and afterwards the stored config is unchanged —
// the same GET /upstreams JSON on every worker, the same config version, the same state file
// bytes. Real `node apps/server` with 4 workers and a token; nothing mocked.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, request, startBackends } from './fixtures/admin-server.js'

const TOKEN = 'bad-requests-token'
let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer
let p1 = 0
let p2 = 0

const JSON_CT = { 'content-type': 'application/json' }
const srv = (port: unknown, extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port, ...extra })
const one = (servers: unknown[]) => ({ cluster: [{ servers }] })

interface Case {
  name: string
  method: string
  path: string
  body?: string | Buffer | (() => string)
  headers?: Record<string, string>
  /** send without the bearer token / with these auth headers instead */
  auth?: Record<string, string> | 'none'
  status: number
  code: string
  message?: string | RegExp
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth)
}

const cases = (): Case[] => [
  // auth
  { name: 'no token', method: 'GET', path: '/upstreams', auth: 'none', status: 401, code: 'ADM_ERR_UNAUTHORIZED' },
  { name: 'wrong token on a write', method: 'PUT', path: '/upstreams/api', auth: { authorization: 'Bearer nope' }, body: JSON.stringify(one([srv(p2)])), headers: JSON_CT, status: 401, code: 'ADM_ERR_UNAUTHORIZED' },
  { name: 'basic auth instead of bearer', method: 'DELETE', path: '/upstreams/api', auth: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, status: 401, code: 'ADM_ERR_UNAUTHORIZED' },
  // body framing
  { name: 'malformed JSON', method: 'PUT', path: '/upstreams/api', body: '{"cluster": [', headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_JSON' },
  { name: 'trailing garbage', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([srv(p2)])) + 'x', headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_JSON' },
  { name: 'too deeply nested JSON', method: 'PUT', path: '/upstreams/api', body: () => `{"cluster":${nested(200_000)}}`, headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_JSON' },
  { name: 'non-JSON content type', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([srv(p2)])), headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'ADM_ERR_BAD_REQUEST' },
  { name: 'body over 1 MiB (content-length)', method: 'PUT', path: '/upstreams/api', body: () => JSON.stringify({ cluster: [{ servers: [srv(p2)] }], pad: 'x'.repeat(1024 * 1024) }), headers: JSON_CT, status: 413, code: 'ADM_ERR_BODY_TOO_LARGE' },
  { name: 'body over 1 MiB (chunked)', method: 'PUT', path: '/upstreams/api', body: () => JSON.stringify({ cluster: [{ servers: [srv(p2)] }], pad: 'x'.repeat(1024 * 1024) }), headers: { ...JSON_CT, 'transfer-encoding': 'chunked' }, status: 413, code: 'ADM_ERR_BODY_TOO_LARGE' },
  // prototype pollution
  { name: '__proto__ at the top', method: 'PUT', path: '/upstreams/api', body: `{"__proto__":{"polluted":true},"cluster":[{"servers":[{"host":"127.0.0.1","port":${p2}}]}]}`, headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_REQUEST', message: /"__proto__"/ },
  { name: '__proto__ in a server', method: 'PUT', path: '/upstreams/api', body: `{"cluster":[{"servers":[{"host":"127.0.0.1","port":${p2},"__proto__":{"weight":9}}]}]}`, headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_REQUEST' },
  { name: 'constructor key', method: 'PUT', path: '/upstreams/api', body: `{"cluster":[{"servers":[{"host":"127.0.0.1","port":${p2}}]}],"constructor":{"prototype":{"x":1}}}`, headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_REQUEST', message: /"(constructor|prototype)"/ },
  { name: 'prototype key in feedback', method: 'POST', path: '/upstreams/api/feedback', body: `{"host":"127.0.0.1","port":${p1},"failed":true,"prototype":1}`, headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_REQUEST' },
  // upstream validation: the original's strings, then the config schema with dotted paths
  { name: 'empty body', method: 'PUT', path: '/upstreams/api', status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'can not set empty upstream' },
  { name: 'empty object', method: 'PUT', path: '/upstreams/api', body: '{}', headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'can not set empty upstream' },
  { name: 'a string body', method: 'PUT', path: '/upstreams/api', body: '"servers"', headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM' },
  { name: 'cluster not an object', method: 'PUT', path: '/upstreams/api', body: '{"cluster":"c1"}', headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'cluster invalid' },
  { name: 'empty cluster', method: 'PUT', path: '/upstreams/api', body: '{"cluster":[]}', headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'can not update empty level' },
  { name: 'empty level', method: 'PUT', path: '/upstreams/api', body: '{"cluster":[{}]}', headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'can not update empty level' },
  { name: 'empty servers', method: 'PUT', path: '/upstreams/api', body: '{"cluster":[{"servers":[]}]}', headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'servers invalid' },
  { name: 'servers not an array', method: 'PUT', path: '/upstreams/api', body: '[{"servers":{"host":"a"}}]', headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'servers invalid' },
  { name: 'server without port', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([{ host: '127.0.0.1' }])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'no server.host nor server.port found' },
  { name: 'port out of range', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([srv(p2), srv(70000)])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'api.cluster[0].servers[1].port: must be an integer 1-65535' },
  { name: 'port not a number', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([srv('http')])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'api.cluster[0].servers[0].port: must be an integer 1-65535' },
  { name: 'weight 0', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([srv(p2, { weight: 0 })])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: /^api\.cluster\[0\]\.servers\[0\]\.weight: / },
  { name: 'host empty', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([{ host: '', port: p2 }])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: /^api\.cluster\[0\]\.servers\[0\]\.host: / },
  { name: 'unknown mode', method: 'PUT', path: '/upstreams/api', body: JSON.stringify({ mode: 'random', ...one([srv(p2)]) }), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: /^api\.mode: must be one of / },
  { name: 'wrong typ type', method: 'PUT', path: '/upstreams/api', body: JSON.stringify({ typ: 5, ...one([srv(p2)]) }), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: /^api\.typ: / },
  { name: 'named cluster with a bad level', method: 'PUT', path: '/upstreams/newone', body: JSON.stringify({ cluster: { c1: { servers: [srv(p2)] }, c2: { servers: [srv(p2, { max_fails: -1 })] } } }), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: /^newone\.cluster\.c2\.servers\[0\]\.max_fails: / },
  { name: 'reserved skey "global"', method: 'PUT', path: '/upstreams/global', body: JSON.stringify(one([srv(p2)])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM' },
  { name: 'skey with a colon', method: 'PUT', path: '/upstreams/a%3Ab', body: JSON.stringify(one([srv(p2)])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM' },
  // unknown things
  { name: 'GET unknown upstream', method: 'GET', path: '/upstreams/nope', status: 404, code: 'CKP_ERR_UPSTREAM_NOT_FOUND', message: 'upstream nope not found' },
  { name: 'DELETE unknown upstream', method: 'DELETE', path: '/upstreams/nope', status: 404, code: 'CKP_ERR_UPSTREAM_NOT_FOUND', message: 'upstream nope not found' },
  { name: 'peer of unknown skey', method: 'GET', path: '/upstreams/nope/peer', status: 404, code: 'CKP_ERR_UNKNOWN_SKEY', message: 'unknown skey nope' },
  { name: 'timeout of unknown skey', method: 'GET', path: '/upstreams/nope/timeout', status: 404, code: 'CKP_ERR_UNKNOWN_SKEY', message: 'unknown skey nope' },
  { name: 'feedback for unknown skey', method: 'POST', path: '/upstreams/nope/feedback', body: JSON.stringify({ host: '127.0.0.1', port: p1, failed: true }), headers: JSON_CT, status: 404, code: 'CKP_ERR_UNKNOWN_SKEY' },
  { name: 'feedback for unknown peer', method: 'POST', path: '/upstreams/api/feedback', body: JSON.stringify({ host: '10.9.9.9', port: 1, failed: true }), headers: JSON_CT, status: 404, code: 'CKP_ERR_UNKNOWN_PEER', message: 'unknown host:port10.9.9.9:1' },
  { name: 'unknown endpoint', method: 'GET', path: '/upstreams/api/nope', status: 404, code: 'ADM_ERR_NOT_FOUND' },
  { name: 'unsupported method', method: 'PATCH', path: '/upstreams/api', body: '{}', headers: JSON_CT, status: 405, code: 'ADM_ERR_METHOD_NOT_ALLOWED' },
  // feedback and query validation
  { name: 'feedback port 0', method: 'POST', path: '/upstreams/api/feedback', body: JSON.stringify({ host: '127.0.0.1', port: 0, failed: true }), headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_REQUEST', message: 'port: must be an integer 1-65535' },
  { name: 'feedback failed not boolean', method: 'POST', path: '/upstreams/api/feedback', body: JSON.stringify({ host: '127.0.0.1', port: p1, failed: 'yes' }), headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_REQUEST', message: 'failed: must be a boolean' },
  { name: 'feedback unknown field', method: 'POST', path: '/upstreams/api/feedback', body: JSON.stringify({ host: '127.0.0.1', port: p1, failed: true, extra: 1 }), headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_REQUEST' },
  { name: 'feedback without body', method: 'POST', path: '/upstreams/api/feedback', status: 400, code: 'ADM_ERR_BAD_REQUEST' },
  { name: 'cluster_key with an empty item', method: 'GET', path: '/upstreams/api/peer?cluster_key=1,,2', status: 400, code: 'ADM_ERR_BAD_REQUEST' },
  { name: 'hash_key given twice', method: 'GET', path: '/upstreams/api/peer?hash_key=a&hash_key=b', status: 400, code: 'ADM_ERR_BAD_REQUEST' },
  { name: 'cluster_key naming no level (junk)', method: 'GET', path: '/upstreams/api/peer?cluster_key=%00junk', status: 400, code: 'ADM_ERR_BAD_REQUEST', message: /^cluster_key: "\\u0000junk" names no level of this upstream/ },
  { name: 'cluster_key level out of range', method: 'GET', path: '/upstreams/api/peer?cluster_key=9', status: 400, code: 'ADM_ERR_BAD_REQUEST' },
  // strict input through the same schema as the config file
  { name: 'misspelt server option', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([srv(p2), srv(p2, { wieght: 2 })])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'api.cluster[0].servers[1].wieght: unknown option (did you mean "weight"?)' },
  { name: 'misspelt upstream option', method: 'PUT', path: '/upstreams/api', body: JSON.stringify({ tiemout: 1, ...one([srv(p2)]) }), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'api.tiemout: unknown option (did you mean "timeout"?)' },
  { name: 'timeout 1e-9 (would be no timeout)', method: 'PUT', path: '/upstreams/api', body: JSON.stringify({ timeout: 1e-9, ...one([srv(p2)]) }), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'api.timeout: must be a number of seconds 0.001-2147483.647' },
  { name: 'timeout beyond a timer', method: 'PUT', path: '/upstreams/api', body: JSON.stringify({ timeout: 1e10, ...one([srv(p2)]) }), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: 'api.timeout: must be a number of seconds 0.001-2147483.647' },
  { name: 'host with CR/LF', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([{ host: '127.0.0.1\r\nX: y', port: p2 }])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: /^api\.cluster\[0\]\.servers\[0\]\.host: must not contain spaces or control characters/ },
  { name: 'host with a lone surrogate', method: 'PUT', path: '/upstreams/api', body: '{"cluster":[{"servers":[{"host":"a\\ud800b","port":80}]}]}', headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: /^api\.cluster\[0\]\.servers\[0\]\.host: must be well-formed text/ },
  { name: 'host:port in host', method: 'PUT', path: '/upstreams/api', body: JSON.stringify(one([{ host: `127.0.0.1:${p2}`, port: p2 }])), headers: JSON_CT, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM', message: /^api\.cluster\[0\]\.servers\[0\]\.host: must be a hostname or an IP address without a port/ },
]

async function snapshot(): Promise<{ upstreams: string[]; version: number; state: Buffer }> {
  const got = await server.eachWorker('GET', '/upstreams')
  const status = await server.get('/status')
  return {
    upstreams: [...got.keys()].sort().map((id) => got.get(id)!.text),
    version: (status.body as { shd_config_version: number }).shd_config_version,
    state: readFileSync(server.stateFile),
  }
}

beforeAll(async () => {
  backends = await startBackends(2)
  ;[p1, p2] = backends.ports as [number, number]
  server = new AdminServer({ workers: 4, token: TOKEN, upstreams: { api: { cluster: [{ servers: [srv(p1)] }] } } })
  await server.start()
  // a first dynamic change so that a state file exists to compare
  const put = await server.putJson('/upstreams/api', one([srv(p1, { weight: 2 })]))
  expect(put.status).toBe(200)
})

afterAll(async () => {
  await server?.dispose()
  await backends?.close()
})

describe('bad admin requests change nothing', () => {
  it('each bad request gets its 4xx and code; upstreams, version and state file unchanged', async () => {
    const before = await snapshot()
    const results: Array<{ name: string; status: number; code: unknown; message: unknown }> = []
    for (const c of cases()) {
      const body = typeof c.body === 'function' ? c.body() : c.body
      const auth = c.auth === 'none' ? {} : (c.auth ?? server.authHeaders())
      const r = await request(server.adminPort, c.method, c.path, { ...(body !== undefined ? { body } : {}), headers: { ...auth, ...(c.headers ?? {}) } })
      const err = (r.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
      results.push({ name: c.name, status: r.status, code: err?.code, message: err?.message })
      expect(r.headers['x-checkups-worker'], c.name).toMatch(/^[0-3]$/)
      expect(String(r.headers['content-type']), c.name).toContain('application/json')
    }
    const expected = cases().map((c) => ({
      name: c.name,
      status: c.status,
      code: c.code,
      message: c.message === undefined ? expect.any(String) : typeof c.message === 'string' ? c.message : expect.stringMatching(c.message),
    }))
    expect(results).toEqual(expected)
    const after = await snapshot()
    expect(after.upstreams).toEqual(before.upstreams)
    expect(after.version).toBe(before.version)
    expect(after.state.equals(before.state)).toBe(true)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('the token guards every endpoint, including unknown ones (no existence leak)', async () => {
    for (const path of ['/status', '/workers', '/metrics', '/upstreams/api/peer', '/nope']) {
      const r = await request(server.adminPort, 'GET', path)
      expect(r.status, path).toBe(401)
      expect((r.body as { error: { code: string } }).error.code).toBe('ADM_ERR_UNAUTHORIZED')
    }
  })
})
