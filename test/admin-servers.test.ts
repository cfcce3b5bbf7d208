// Per-server operations through the admin API of a real `node apps/server` with 2 workers and
// real loopback backends: add / patch (weight, down, drain) / delete one server, If-Match,
// 50 concurrent adds through both workers, and drain — a peer with a slow request in flight
// finishes it and gets no new one, shown `draining` until nothing is in flight.
import { createServer, request as httpRequest, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, sleep } from './fixtures/admin-server.js'

interface Backend { port: number; hits: number; server: Server; release(): void; held: number }

async function backend(name: string): Promise<Backend> {
  const waiting: Array<() => void> = []
  const b: Backend = { port: 0, hits: 0, held: 0, server: undefined as unknown as Server, release: () => waiting.splice(0).forEach((f) => f()) }
  b.server = createServer((req, res) => {
    b.hits++
    if (req.url === '/slow') {
      b.held++
      waiting.push(() => res.end(`${name} slow`))
      return
    }
    res.end(name)
  })
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r))
  b.port = (b.server.address() as { port: number }).port
  return b
}

function proxyGet(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end()
  })
}

let b1: Backend
let b2: Backend
let server: AdminServer
const JSON_CT = { 'content-type': 'application/json' }
const H = '127.0.0.1'

interface ServerRow { host: string; port: number; weight: number; state: string; busy: boolean; down?: boolean; drain?: boolean }
const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  server.send(method, path, { ...(body !== undefined ? { body: JSON.stringify(body) } : {}), headers: { ...JSON_CT, ...headers } })

async function rows(skey: string): Promise<Map<number, ServerRow[]>> {
  const m = new Map<number, ServerRow[]>()
  for (const [id, r] of await server.eachWorker('GET', `/upstreams/${skey}/servers`)) m.set(id, r.body as ServerRow[])
  return m
}

beforeAll(async () => {
  b1 = await backend('b1')
  b2 = await backend('b2')
  server = new AdminServer({
    workers: 2,
    upstreams: {
      api: { cluster: [{ servers: [{ host: H, port: b1.port }] }] },
      many: { enable: false, cluster: [{ servers: [{ host: H, port: b1.port }] }] },
    },
    server: { routes: [{ path_prefix: '/', upstream: 'api' }] },
  })
  await server.start()
}, 120_000)

afterAll(async () => {
  b1?.release()
  await server?.dispose()
  for (const b of [b1, b2]) if (b) await new Promise((r) => { b.server.closeAllConnections(); b.server.close(r) })
})

describe('per-server operations', () => {
  it('drain: the slow request in flight finishes, no new request reaches the peer, shown draining until done', async () => {
    const slow = proxyGet(server.proxyPort, '/slow')
    for (let i = 0; i < 200 && b1.held === 0; i++) await sleep(10)
    expect(b1.held).toBe(1)
    const add = await send('POST', '/upstreams/api/servers', { host: H, port: b2.port })
    expect(add.status).toBe(201)
    expect(add.body).toMatchObject({ ok: true, id: `${H}:${b2.port}` })
    const drain = await send('PATCH', `/upstreams/api/servers/${H}:${b1.port}`, { drain: true })
    expect(drain.status).toBe(200)
    for (const list of (await rows('api')).values()) {
      expect(list.map((s) => [s.port, s.state, s.busy])).toEqual([[b1.port, 'draining', true], [b2.port, 'up', false]])
    }
    const hitsBefore = b1.hits
    for (let i = 0; i < 10; i++) expect(await proxyGet(server.proxyPort, '/')).toEqual({ status: 200, text: 'b2' })
    expect(b1.hits).toBe(hitsBefore)
    b1.release()
    expect(await slow).toEqual({ status: 200, text: 'b1 slow' })
    let states: string[] = []
    for (let i = 0; i < 100; i++) {
      states = [...(await rows('api')).values()].map((l) => l[0]!.state)
      if (states.every((s) => s === 'drained')) break
      await sleep(20)
    }
    expect(states).toEqual(['drained', 'drained'])
  }, 60_000)

  it('down, weight, If-Match and delete: every worker sees each change; a stale If-Match is 412 and changes nothing', async () => {
    const etag = (await server.get('/upstreams/api')).headers['etag'] as string
    const version = Number(etag.replace(/"/g, ''))
    const stale = await send('PATCH', `/upstreams/api/servers/${H}:${b2.port}`, { weight: 3 }, { 'if-match': `"${version - 1}"` })
    expect([stale.status, (stale.body as { error: { code: string } }).error.code]).toEqual([412, 'CKP_ERR_VERSION_MISMATCH'])
    const w = await send('PATCH', `/upstreams/api/servers/${H}:${b2.port}`, { weight: 3 }, { 'if-match': etag })
    expect([w.status, (w.body as { version: number }).version]).toEqual([200, version + 1])
    const down = await send('PATCH', `/upstreams/api/servers/${H}:${b2.port}`, { down: true })
    expect(down.status).toBe(200)
    for (const r of (await server.eachWorker('GET', '/upstreams/api/peer')).values()) expect(r.status).toBe(503)
    for (const list of (await rows('api')).values()) expect(list[1]).toMatchObject({ port: b2.port, weight: 3, state: 'down', down: true })
    expect((await send('PATCH', `/upstreams/api/servers/${H}:${b1.port}`, { drain: false })).status).toBe(200)
    expect((await send('DELETE', `/upstreams/api/servers/${H}:${b2.port}`)).status).toBe(200)
    for (const list of (await rows('api')).values()) expect(list.map((s) => [s.port, s.state])).toEqual([[b1.port, 'up']])
    expect(await proxyGet(server.proxyPort, '/')).toEqual({ status: 200, text: 'b1' })
  }, 60_000)

  it('50 concurrent adds to one upstream through both workers: none lost, unique versions', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send('POST', '/upstreams/many/servers', { host: '127.0.0.2', port: 20000 + i })))
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(201))
    expect(new Set(answers.map((a) => a.worker)).size).toBe(2)
    const versions = answers.map((a) => (a.body as { version: number }).version)
    expect(new Set(versions).size).toBe(50)
    for (const list of (await rows('many')).values()) {
      expect(list.map((s) => s.port).sort()).toEqual([b1.port, ...Array.from({ length: 50 }, (_, i) => 20000 + i)].sort())
    }
  }, 60_000)
})
