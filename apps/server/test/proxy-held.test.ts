/**
 * The held response: while readyOk judges a response, its body is read ahead (bounded) and
 * the peer paused beyond that; then it is committed, discarded or relayed whole. Bodies
 * around the read-ahead bound, judged-bad responses with large bodies, and a peer failing
 * mid-body all reach the client intact or visibly cut — never short, never hanging.
 */
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startBackend } from './fixtures/backend.js'
import { get, many } from './fixtures/client.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

const noHb = { default_heartbeat_enable: false }

async function proxy(config: Record<string, unknown>): Promise<TestProxy> {
  const p = await startTestProxy(config, [{ upstream: 'api' }])
  cleanup.push(() => p.close())
  return p
}

/** Tracks the server's connections; the returned cleanup closes it and destroys those still open. */
function closer(server: NetServer): () => Promise<void> {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const s of sockets) s.destroy()
    })
}

/** A backend answering every request with `handler`; counts hits. */
async function rawBackend(handler: Parameters<typeof createServer>[1]): Promise<{ port: number; hits: () => number }> {
  let hits = 0
  const server: Server = createServer((req, res) => {
    hits++
    handler?.(req, res)
  })
  cleanup.push(closer(server))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, hits: () => hits }
}

/** `n` bytes whose content depends on the position, so a lost or reordered chunk shows. */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 10)) & 0xff
  return b
}

describe('proxy: held responses', () => {
  it('bodies around the read-ahead bound arrive whole', async () => {
    const b = await startBackend('b1')
    cleanup.push(() => b.close())
    const p = await proxy({ global: noHb, api: { cluster: [{ servers: servers([b.port]) }] } })
    const sizes = [0, 1, 65_535, 65_536, 65_537, 131_072, 200_001, 1_048_576]
    const replies = await many(sizes.length * 2, 4, (i) => get(`${p.url}/big/${sizes[i % sizes.length]}`))
    replies.forEach((r, i) => {
      expect(r.status).toBe(200)
      expect(r.text.length).toBe(sizes[i % sizes.length])
      expect(r.headers['content-length']).toBe(String(sizes[i % sizes.length]))
    })
  })

  it('a judged-bad response with a large body is dropped and the next peer answers; relayed whole when it is the last', async () => {
    const body = pattern(150_000)
    const bad = await rawBackend((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) })
      // in pieces, so part of it arrives after the response was judged
      res.write(body.subarray(0, 1000))
      setTimeout(() => res.end(body.subarray(1000)), 5)
    })
    const good = await rawBackend((_req, res) => res.end('good'))
    const p = await proxy({
      global: noHb,
      api: { typ: 'http', http_opts: { statuses: { '500': false } }, cluster: [{ servers: servers([bad.port, good.port]) }] },
    })
    const replies = await many(20, 4, () => get(`${p.url}/x`))
    expect(replies.map((r) => `${r.status} ${r.text}`)).toEqual(Array(20).fill('200 good'))
    expect(bad.hits()).toBeGreaterThan(0)

    const onlyBad = await proxy({
      global: noHb,
      api: { typ: 'http', http_opts: { statuses: { '500': false } }, cluster: [{ servers: servers([bad.port]) }] },
    })
    const r = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      void import('node:http').then(({ get: httpGet }) => {
        httpGet(`${onlyBad.url}/x`, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
          res.on('error', reject)
        }).on('error', reject)
      })
    })
    expect(r.status).toBe(500)
    expect(r.body.equals(body)).toBe(true)
  })

  it('a peer failing mid-body cuts the client response (never short, never hanging)', async () => {
    const cut = await rawBackend((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100000' })
      res.write(Buffer.alloc(1000, 'y'))
      setTimeout(() => req.socket.destroy(), 20)
    })
    const p = await proxy({ global: noHb, api: { cluster: [{ servers: servers([cut.port]) }] } })
    const t0 = Date.now()
    const outcome = await get(`${p.url}/x`).then(
      (r) => `complete ${r.status} ${r.text.length}`,
      () => 'cut',
    )
    expect(outcome).toBe('cut')
    expect(Date.now() - t0).toBeLessThan(5_000)
  })

  it('a malformed body right behind the headers (failing before the response is judged) cuts the client response', async () => {
    const raw = createNetServer((s) => {
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n'))
    })
    cleanup.push(closer(raw))
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
    const p = await proxy({ global: noHb, api: { cluster: [{ servers: servers([(raw.address() as AddressInfo).port]) }] } })
    const outcome = await get(`${p.url}/x`).then(
      (r) => `complete ${r.status} ${r.text}`,
      () => 'cut',
    )
    expect(outcome).toBe('cut')
  })
})
