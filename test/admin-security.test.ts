// Admin API security on a real `node apps/server` (2 workers): secrets never in an answer or
// a log line; read and write tokens; WWW-Authenticate on 401; HEAD for every GET; Allow on
// 405; a non-loopback admin address without a token is refused at start.
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, SERVER_ENTRY, freePort, request, startBackends } from './fixtures/admin-server.js'

const TOKEN = 'write-token-x'
const READ = 'read-token-y'
const SECRET = 'sekret-Pa55'
const BASIC = 'QWxhZGRpbjpvcGVu'
let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer
const H = '127.0.0.1'
const JSON_CT = { 'content-type': 'application/json' }
const bearer = (t: string) => ({ authorization: `Bearer ${t}` })

beforeAll(async () => {
  backends = await startBackends(1)
  const p = backends.ports[0]!
  server = new AdminServer({
    workers: 2,
    token: TOKEN,
    upstreams: {
      db: { typ: 'mysql', enable: false, user: 'app', pass: SECRET, cluster: [{ servers: [{ host: H, port: p }] }] },
      web: { typ: 'http', http_opts: { query: `GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${BASIC}\r\n\r\n` }, cluster: [{ servers: [{ host: H, port: p }] }] },
    },
  })
  // the fixture picks the admin port on the first write: then give the admin section its read token
  await server.writeConfig()
  server.opts.server = { admin: { listen: `127.0.0.1:${server.adminPort}`, token: TOKEN, read_token: READ } }
  await server.writeConfig()
  await server.start()
}, 120_000)

afterAll(async () => {
  await server?.dispose()
  await backends?.close()
})

describe('secrets', () => {
  it('pass and Authorization in http_opts.query are redacted in every answer and never logged', async () => {
    const answers = [
      await server.get('/upstreams'),
      await server.get('/upstreams/db'),
      await server.get('/upstreams/web'),
      await server.get('/upstreams/db/servers'),
      await server.send('POST', '/validate', { body: JSON.stringify({ skey: 'db', upstream: { pass: 'other-secret', cluster: [{ servers: [{ host: H, port: 1 }] }] } }), headers: JSON_CT }),
    ]
    for (const a of answers) {
      expect(a.status).toBe(200)
      expect(a.text).not.toContain(SECRET)
      expect(a.text).not.toContain(BASIC)
      expect(a.text).not.toContain('other-secret')
    }
    expect((answers[1]!.body as { pass: string }).pass).toBe('[redacted]')
    expect((answers[2]!.body as { http_opts: { query: string } }).http_opts.query).toContain('Authorization: [redacted]')
    // a redacted upstream written back keeps the stored secret (the state file, mode 0600, holds it)
    const put = await server.putJson('/upstreams/db', answers[1]!.body)
    expect(put.status).toBe(200)
    expect((JSON.parse(readFileSync(server.stateFile, 'utf8')) as { upstreams: { db: { pass: string } } }).upstreams.db.pass).toBe(SECRET)
    expect(server.output).not.toContain(SECRET)
    expect(server.output).not.toContain(BASIC)
  })
})

describe('tokens and roles', () => {
  it('401 carries WWW-Authenticate; a read token reads (GET, HEAD, /metrics) and may not write (403)', async () => {
    const none = await request(server.adminPort, 'GET', '/upstreams')
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Bearer realm="checkups-admin"'])
    for (const path of ['/upstreams', '/status', '/metrics', '/upstreams/db/servers']) {
      expect((await request(server.adminPort, 'GET', path, { headers: bearer(READ) })).status, path).toBe(200)
    }
    const writes: Array<[string, string, unknown]> = [
      ['PUT', '/upstreams/x', { cluster: [{ servers: [{ host: H, port: 1 }] }] }],
      ['DELETE', '/upstreams/db', undefined],
      ['PATCH', `/upstreams/db/servers/${H}:${backends.ports[0]}`, { weight: 2 }],
      ['POST', '/reload', undefined],
    ]
    for (const [method, path, body] of writes) {
      const r = await request(server.adminPort, method, path, { headers: { ...bearer(READ), ...JSON_CT }, ...(body ? { body: JSON.stringify(body) } : {}) })
      expect([r.status, (r.body as { error: { code: string } }).error.code], `${method} ${path}`).toEqual([403, 'ADM_ERR_FORBIDDEN'])
    }
    expect((await server.get('/upstreams/x')).status).toBe(404)
  })

  it('HEAD answers every GET with its headers and no body; 405 lists Allow', async () => {
    for (const path of ['/upstreams', '/upstreams/db', '/status', '/workers', '/metrics', '/upstreams/db/servers', '/upstreams/db/timeout']) {
      const get = await server.get(path)
      const head = await server.send('HEAD', path)
      expect([head.status, head.text, head.headers['content-type']], path).toEqual([get.status, '', get.headers['content-type']])
    }
    const r = await server.send('PATCH', '/upstreams/db', { body: '{}', headers: JSON_CT })
    expect([r.status, r.headers['allow']]).toEqual([405, 'GET, HEAD, PUT, DELETE'])
  })
})

describe('admin bind', () => {
  it('refuses a non-loopback admin address without a token: exit 1, clear message, nothing started', async () => {
    const port = await freePort()
    const cfg = `${server.dir}/open.config.mjs`
    writeFileSync(cfg, `export default ${JSON.stringify({ api: { cluster: [{ servers: [{ host: H, port: 1 }] }] }, server: { workers: 1, listen: `127.0.0.1:${await freePort()}` } })}\n`)
    const child = spawn(process.execPath, [SERVER_ENTRY, '--config', cfg, '--admin', `0.0.0.0:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const code = await new Promise<number | null>((r) => child.once('exit', r))
    expect(code).toBe(1)
    expect(out).toContain('the admin API on 0.0.0.0 is reachable from other machines and can change every upstream; set server.admin.token')
  }, 30_000)
})

describe('admin TLS', () => {
  it('server.admin.tls serves the admin API over HTTPS only', async () => {
    const dir = server.dir
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' })
    const ca = readFileSync(`${dir}/cert.pem`)
    const s = new AdminServer({ workers: 2, token: TOKEN, upstreams: { api: { cluster: [{ servers: [{ host: H, port: backends.ports[0]! }] }] } }, ca })
    try {
      await s.writeConfig()
      s.opts.server = { admin: { listen: `127.0.0.1:${s.adminPort}`, token: TOKEN, tls: { cert: `${dir}/cert.pem`, key: `${dir}/key.pem` } } }
      await s.writeConfig()
      await s.start()
      const r = await s.get('/upstreams')
      expect([r.status, Object.keys(r.body as object)]).toEqual([200, ['api']])
      await expect(request(s.adminPort, 'GET', '/upstreams', { headers: bearer(TOKEN) })).rejects.toThrow()
    } finally {
      await s.dispose()
    }
  }, 120_000)

  it('a tls section whose files cannot be read is refused at start', async () => {
    const cfg = `${server.dir}/badtls.config.mjs`
    writeFileSync(cfg, `export default ${JSON.stringify({ api: { cluster: [{ servers: [{ host: H, port: 1 }] }] }, server: { workers: 1, listen: `127.0.0.1:${await freePort()}`, admin: { listen: `127.0.0.1:${await freePort()}`, tls: { cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem' } } } })}\n`)
    const child = spawn(process.execPath, [SERVER_ENTRY, '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    expect(await new Promise<number | null>((r) => child.once('exit', r))).toBe(1)
    expect(out).toContain('server.admin.tls.cert: cannot read /nonexistent/c.pem')
  }, 30_000)
})
