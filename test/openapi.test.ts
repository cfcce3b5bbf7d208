// The admin API's OpenAPI 3.1 document (apps/server/openapi.json) against the real thing:
// the document is a valid OpenAPI 3.1 document; its operations are exactly the router's route
// table (an endpoint added to the router without documentation fails here); its error codes
// are exactly the ones the admin layer can answer; and a real `node apps/server` with 2
// workers and a token answers every operation — successes and failures — with responses that
// conform to the document (status, content type, body schema).
import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { AdminErrorCodes, CHECKUPS_STATUS } from '@checkups/server'
import { OPENAPI_FILE } from '../apps/server/dist/admin/routes/openapi.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, freePort, request, sleep, startBackends, type Reply } from './fixtures/admin-server.js'
import { docOperations, isPublic, isStream, loadDoc, OPENAPI_PATH, readStreamStart, responseChecker, routerOperations } from './fixtures/openapi.js'

const doc = loadDoc()
const TOKEN = 'openapi-test-token'
const JSON_CT = { 'content-type': 'application/json' }

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const v = new Validator()
    const res = await v.validate(OPENAPI_PATH)
    expect(res.errors ?? []).toEqual([])
    expect(res.valid).toBe(true)
    expect(v.version).toBe('3.1')
  })

  it('ships with the package (apps/server files) and is read from there', () => {
    const pj = JSON.parse(readFileSync(new URL('../apps/server/package.json', import.meta.url), 'utf8')) as { files: string[] }
    expect(pj.files).toContain('openapi.json')
    expect(OPENAPI_FILE).toBe(OPENAPI_PATH)
  })

  it('documents exactly the routes the admin router serves', () => {
    expect(docOperations(doc)).toEqual(routerOperations())
  })

  it('lists exactly the error codes the admin API can answer', () => {
    // errorResponse(): admin codes, core codes with a mapped status, and RT_ERR_IPC (503)
    const answered = [...Object.keys(AdminErrorCodes), ...Object.keys(CHECKUPS_STATUS), 'RT_ERR_IPC'].sort()
    const documented = [...(doc.components.schemas['ErrorCode']!['enum'] as string[])].sort()
    expect(documented).toEqual(answered)
  })

  it('compiles every schema and response of the document', () => {
    const checker = responseChecker(doc)
    expect(checker.compileAll()).toBeGreaterThan(30)
    // an undocumented operation is reported, a documented one with a bad body is reported
    expect(() => checker.check('GET /nowhere', 200, 'application/json', {})).toThrow(/no operation/)
    expect(checker.check('GET /upstreams/{skey}/peer', 200, 'application/json', { host: 'h' })).not.toEqual([])
    expect(checker.check('GET /upstreams/{skey}/peer', 200, 'text/html', '')).not.toEqual([])
  })
})

interface Call {
  op: string
  path: string
  method?: string
  body?: unknown
  raw?: string
  headers?: Record<string, string>
  auth?: 'none'
  /** a stream is read until this matches (default: its first blank line) */
  until?: RegExp
  status: number
  code?: string
}

describe('real responses conform to the document (2 workers)', () => {
  let backends: Awaited<ReturnType<typeof startBackends>>
  let server: AdminServer
  const checker = responseChecker(doc)

  beforeAll(async () => {
    backends = await startBackends(3)
    const [p1, p2, p3] = backends.ports
    const srv = (port: number | undefined, extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port, ...extra })
    const closed = await freePort() // nothing listens there: its heartbeat fails
    server = new AdminServer({
      workers: 2,
      token: TOKEN,
      upstreams: {
        api: { typ: 'http', http_opts: { query: 'GET / HTTP/1.0\r\n\r\n', statuses: { 500: false } }, cluster: [{ servers: [srv(p1, { max_fails: 3 }), srv(p2)] }, { servers: [srv(p3)] }] },
        gone: { protected: false, cluster: [{ servers: [srv(closed)] }] },
        named: { mode: 'hash', enable: false, cluster: { dc1: { servers: [srv(p1)] }, dc2: { servers: [srv(p2, { weight: 3 })] } } },
      },
    })
    await server.start()
    // until the heartbeat has seen `gone`'s only server down (bounded: a few rounds)
    for (let i = 0; i < 200; i++) {
      const st = (await server.get('/status')).body as Record<string, Array<Array<{ status: string }>>>
      if (st['cls:gone']?.[0]?.[0]?.status === 'err') break
      await sleep(50)
    }
  })

  afterAll(async () => {
    await server?.dispose()
    await backends?.close()
  })

  const calls = (): Call[] => {
    const [p1, p2, p3] = backends.ports
    const srv = (port: number | undefined) => ({ host: '127.0.0.1', port })
    return [
      { op: 'GET /status', path: '/status', status: 200 },
      { op: 'GET /workers', path: '/workers', status: 200 },
      { op: 'GET /upstreams', path: '/upstreams', status: 200 },
      { op: 'GET /upstreams/{skey}', path: '/upstreams/api', status: 200 },
      { op: 'GET /upstreams/{skey}', path: '/upstreams/named', status: 200 },
      { op: 'GET /upstreams/{skey}', path: '/upstreams/nope', status: 404, code: 'CKP_ERR_UPSTREAM_NOT_FOUND' },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/web', body: { mode: 'wrr', cluster: [{ servers: [srv(p1), { ...srv(p2), weight: 2 }] }] }, status: 200 },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/web', body: [{ servers: [srv(p3)] }], status: 200 },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/web2', body: { dc1: { servers: [{ host: '127.0.0.1', port: String(p1) }] } }, status: 200 },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/web', body: [{ servers: [] }], status: 400, code: 'CKP_ERR_INVALID_UPSTREAM' },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/web', body: { cluster: [{ servers: [{ host: '127.0.0.1', port: 0 }] }] }, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM' },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/global', body: { cluster: [{ servers: [srv(p1)] }] }, status: 400, code: 'CKP_ERR_INVALID_UPSTREAM' },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/web', raw: '{"cluster":', headers: JSON_CT, status: 400, code: 'ADM_ERR_BAD_JSON' },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/web', raw: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'ADM_ERR_BAD_REQUEST' },
      { op: 'PUT /upstreams/{skey}', path: '/upstreams/web', raw: `"${'x'.repeat(1024 * 1024 + 16)}"`, headers: JSON_CT, status: 413, code: 'ADM_ERR_BODY_TOO_LARGE' },
      { op: 'DELETE /upstreams/{skey}', path: '/upstreams/web2', method: 'DELETE', status: 200 },
      { op: 'DELETE /upstreams/{skey}', path: '/upstreams/web2', method: 'DELETE', status: 404, code: 'CKP_ERR_UPSTREAM_NOT_FOUND' },
      { op: 'GET /upstreams/{skey}/peer', path: '/upstreams/api/peer', status: 200 },
      { op: 'GET /upstreams/{skey}/peer', path: '/upstreams/named/peer?hash_key=user-42&cluster_key=dc2,dc1', status: 200 },
      { op: 'GET /upstreams/{skey}/peer', path: '/upstreams/api/peer?hash_key=a&hash_key=b', status: 400, code: 'ADM_ERR_BAD_REQUEST' },
      { op: 'GET /upstreams/{skey}/peer', path: '/upstreams/nope/peer', status: 404, code: 'CKP_ERR_UNKNOWN_SKEY' },
      { op: 'GET /upstreams/{skey}/peer', path: '/upstreams/api/peer?cluster_key=9', status: 400, code: 'ADM_ERR_BAD_REQUEST' },
      { op: 'GET /upstreams/{skey}/peer', path: '/upstreams/gone/peer', status: 503, code: 'CKP_ERR_NO_SERVERS' },
      { op: 'POST /upstreams/{skey}/feedback', path: '/upstreams/api/feedback', body: { host: '127.0.0.1', port: p1, failed: true }, status: 200 },
      { op: 'POST /upstreams/{skey}/feedback', path: '/upstreams/api/feedback', body: { host: '127.0.0.1', port: String(p2), failed: false }, status: 200 },
      { op: 'POST /upstreams/{skey}/feedback', path: '/upstreams/api/feedback', body: { host: '127.0.0.1', port: p1 }, status: 400, code: 'ADM_ERR_BAD_REQUEST' },
      { op: 'POST /upstreams/{skey}/feedback', path: '/upstreams/api/feedback', body: { host: '127.0.0.1', port: 1, failed: true }, status: 404, code: 'CKP_ERR_UNKNOWN_PEER' },
      { op: 'POST /upstreams/{skey}/feedback', path: '/upstreams/api/feedback', raw: 'a', headers: { 'content-type': 'text/plain' }, status: 415, code: 'ADM_ERR_BAD_REQUEST' },
      { op: 'GET /upstreams/{skey}/timeout', path: '/upstreams/api/timeout', status: 200 },
      { op: 'GET /upstreams/{skey}/timeout', path: '/upstreams/nope/timeout', status: 404, code: 'CKP_ERR_UNKNOWN_SKEY' },
      { op: 'GET /stats', path: '/stats', status: 200 },
      { op: 'GET /upstreams/{skey}/stats', path: '/upstreams/api/stats', status: 200 },
      { op: 'GET /upstreams/{skey}/stats', path: '/upstreams/nope/stats', status: 404, code: 'CKP_ERR_UNKNOWN_SKEY' },
      { op: 'GET /events', path: '/events', status: 200 },
      { op: 'GET /events', path: '/events?since=0', until: /^data: .*\n\n/m, status: 200 },
      { op: 'GET /', path: '/', status: 200 },
      { op: 'GET /dashboard/app.js', path: '/dashboard/app.js', status: 200 },
      { op: 'GET /dashboard/style.css', path: '/dashboard/style.css', status: 200 },
      { op: 'GET /metrics', path: '/metrics', status: 200 },
      { op: 'GET /openapi.json', path: '/openapi.json', status: 200 },
      { op: 'GET /status', path: '/status', method: 'POST', body: {}, status: 405, code: 'ADM_ERR_METHOD_NOT_ALLOWED' },
      // an unknown path answers the same error shape (checked against an operation's default)
      { op: 'GET /metrics', path: '/metrics/extra', status: 404, code: 'ADM_ERR_NOT_FOUND' },
    ]
  }

  const methodOf = (c: Call): string => c.method ?? c.op.split(' ')[0]!

  async function send(c: Call): Promise<Reply> {
    const payload = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body))
    const headers = { ...(payload !== undefined && c.raw === undefined ? JSON_CT : {}), ...(c.headers ?? {}) }
    const auth = c.auth === 'none' ? {} : server.authHeaders()
    if (c.auth !== 'none' && isStream(doc, c.op) && payload === undefined) {
      // a stream never ends by itself: read its first event, then hang up
      const r = await readStreamStart(server.adminPort, c.path, { ...auth, ...headers }, c.until ?? /\n\n/)
      return { ...r, body: r.text, worker: Number(r.headers['x-checkups-worker']) }
    }
    return request(server.adminPort, methodOf(c), c.path, { ...(payload !== undefined ? { body: payload } : {}), headers: { ...auth, ...headers } })
  }

  function conformance(c: Call, r: Reply): string[] {
    const problems = checker.check(c.op, r.status, r.headers['content-type'] as string | undefined, r.body ?? r.text)
    if (r.status !== c.status) problems.push(`${methodOf(c)} ${c.path}: status ${r.status}, expected ${c.status}: ${r.text.slice(0, 200)}`)
    if (!/^[0-9]+$/.test(String(r.headers['x-checkups-worker']))) problems.push(`${c.path}: no x-checkups-worker header`)
    if (c.code !== undefined && (r.body as { error?: { code?: string } } | undefined)?.error?.code !== c.code) {
      problems.push(`${methodOf(c)} ${c.path}: code ${JSON.stringify(r.body)}, expected ${c.code}`)
    }
    if (r.status < 300 && c.body !== undefined) problems.push(...checker.checkRequest(c.op, c.body))
    return problems
  }

  it('every operation answers, successes and failures, as documented', async () => {
    const problems: string[] = []
    const ok = new Set<string>()
    const failed = new Set<string>()
    let events = 0
    for (const c of calls()) {
      const r = await send(c)
      problems.push(...conformance(c, r))
      ;(r.status < 300 ? ok : failed).add(c.op)
      if (c.op === 'GET /openapi.json' && r.status === 200) expect(r.body).toEqual(doc)
      if (isStream(doc, c.op) && r.status === 200) {
        // every event's data is an Event of the document
        for (const m of r.text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)) {
          if (m[1] !== 'lost') problems.push(...checker.checkSchema('Event', JSON.parse(m[2]!)))
          events++
        }
      }
    }
    expect(problems).toEqual([])
    // a documented event stream was read and its events checked (the writes above are events)
    if (docOperations(doc).some((op) => isStream(doc, op))) expect(events).toBeGreaterThan(0)
    // every documented operation was seen succeeding and failing (401 without the token below)
    expect([...ok].sort()).toEqual(docOperations(doc))
    expect([...failed].filter((op) => ok.has(op)).length).toBeGreaterThan(5)
  })

  it('every operation answers 401 without the token, as documented', async () => {
    const problems: string[] = []
    // operations documented with `security: []` (public pages) are the exception
    for (const op of docOperations(doc).filter((o) => !isPublic(doc, o))) {
      const [method, template] = op.split(' ') as [string, string]
      const path = template.replace('{skey}', 'api').replace('{server}', '127.0.0.1:1')
      const body = method === 'GET' || method === 'DELETE' ? undefined : {}
      const r = await send({ op, path, method, auth: 'none', status: 401, code: 'ADM_ERR_UNAUTHORIZED', ...(body ? { raw: '{}', headers: JSON_CT } : {}) })
      problems.push(...conformance({ op, path, method, status: 401, code: 'ADM_ERR_UNAUTHORIZED' }, r))
    }
    expect(problems).toEqual([])
  })

  it('the answers are the same document from both workers', async () => {
    const replies = await server.eachWorker('GET', '/openapi.json')
    expect(replies.size).toBe(2)
    for (const r of replies.values()) expect(r.body).toEqual(doc)
  })
})
