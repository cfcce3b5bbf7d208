/**
 * checkups.dispatcher(): undici / fetch through readyOk against real loopback servers —
 * balancing, `http_opts.statuses` judgement with retries, bodies of failed attempts consumed on
 * kept-alive connections, safe retries only, the last bad answer relayed, pass-through of
 * hosts that are not upstreams, and the interceptor form.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Agent, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { deadPort, prepared } from './helpers.js'

interface Srv { port: number; hits: number; sockets: Set<Socket>; bodies: string[]; status: number; close(): Promise<void> }

async function server(status = 200, fn?: (req: IncomingMessage, res: ServerResponse, s: Srv) => void): Promise<Srv> {
  const s = { hits: 0, sockets: new Set<Socket>(), bodies: [] as string[], status } as Srv
  const srv: Server = createServer((req, res) => {
    s.hits++
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      s.bodies.push(Buffer.concat(chunks).toString())
      if (fn) return fn(req, res, s)
      res.writeHead(s.status, { 'content-type': 'text/plain' })
      res.end(`${s.port} ${req.method} ${req.url} ${'x'.repeat(64 * 1024)}`)
    })
  })
  srv.on('connection', (sock: Socket) => s.sockets.add(sock))
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  s.port = (srv.address() as AddressInfo).port
  s.close = () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()) })
  return s
}

const open: Array<{ close(): Promise<unknown> }> = []
afterEach(async () => { await Promise.all(open.splice(0).map((x) => x.close())) })

/** A peer that resets every request after reading it, then a good one, behind one dispatcher. */
async function brokenThenGood() {
  const broken = await server(200, (_req, res) => res.destroy())
  const good = await server()
  open.push(broken, good)
  const dispatcher = prepared(ups([broken.port, good.port])).dispatcher()
  open.push(dispatcher)
  return { broken, good, dispatcher }
}

function ups(ports: number[], extra: Record<string, unknown> = {}) {
  return { api: { typ: 'http', timeout: 2, http_opts: { statuses: { 502: false, 503: false } }, cluster: [{ servers: ports.map((port) => ({ host: '127.0.0.1', port })) }], ...extra } }
}

describe('checkups.dispatcher()', () => {
  it('balances fetch calls to the upstream named by the URL host over kept-alive pools', async () => {
    const [a, b] = [await server(), await server()]
    open.push(a, b)
    const c = prepared(ups([a.port, b.port]))
    const dispatcher = c.dispatcher()
    open.push(dispatcher)
    const seen: string[] = []
    for (let i = 0; i < 20; i++) {
      const res = await fetch('http://api/users?x=1', { dispatcher })
      expect(res.status).toBe(200)
      const text = await res.text()
      seen.push(text.split(' ')[0]!)
      expect(text.split(' ').slice(1, 3)).toEqual(['GET', '/users?x=1'])
    }
    expect(a.hits).toBe(10)
    expect(b.hits).toBe(10)
    // one connection per peer: the pools keep them alive
    expect(a.sockets.size + b.sockets.size).toBe(2)
  })

  it('retries a bad status on the next peer and consumes the failed body (connection reused)', async () => {
    const [bad, good] = [await server(502), await server()]
    open.push(bad, good)
    const c = prepared(ups([bad.port, good.port]))
    const dispatcher = c.dispatcher()
    open.push(dispatcher)
    for (let i = 0; i < 10; i++) {
      const { statusCode, body } = await request('http://api/x', { dispatcher })
      expect(statusCode).toBe(200)
      expect((await body.text()).startsWith(String(good.port))).toBe(true)
    }
    expect(bad.hits).toBeGreaterThan(0)
    expect(bad.sockets.size).toBe(1)
  })

  it('relays the last bad answer when every peer answers badly', async () => {
    const [a, b] = [await server(503), await server(503)]
    open.push(a, b)
    const c = prepared(ups([a.port, b.port]))
    const dispatcher = c.dispatcher()
    open.push(dispatcher)
    const res = await fetch('http://api/', { dispatcher })
    expect(res.status).toBe(503)
    expect((await res.text()).length).toBeGreaterThan(64 * 1024)
    expect(a.hits + b.hits).toBe(2)
  })

  it('moves on from a dead peer on connect errors, even for a streamed POST', async () => {
    const good = await server()
    open.push(good)
    const dead = await deadPort()
    const c = prepared(ups([dead, good.port]))
    const dispatcher = c.dispatcher()
    open.push(dispatcher)
    for (let i = 0; i < 4; i++) {
      const stream = new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode(`body${i}`)); ctl.close() } })
      const res = await fetch('http://api/post', { dispatcher, method: 'POST', body: stream, duplex: 'half' } as RequestInit)
      expect(res.status).toBe(200)
      await res.text()
    }
    expect(good.bodies).toEqual(['body0', 'body1', 'body2', 'body3'])
  })

  it('never repeats a POST whose peer answered badly or broke after it was sent', async () => {
    const { broken, good, dispatcher } = await brokenThenGood()
    let failures = 0
    for (let i = 0; i < 4; i++) {
      const r = await request('http://api/p', { dispatcher, method: 'POST', body: 'once' }).then(async (x) => { await x.body.dump(); return x.statusCode }, () => 'error')
      if (r === 'error') failures++
    }
    // wrr alternates: the two requests that reached the broken peer fail, none is resent
    expect(failures).toBe(2)
    expect(broken.bodies.length + good.bodies.length).toBe(4)
  })

  it('retries idempotent requests with a replayable body after a reset', async () => {
    const { broken, good, dispatcher } = await brokenThenGood()
    for (let i = 0; i < 4; i++) {
      const { statusCode, body } = await request('http://api/put', { dispatcher, method: 'PUT', body: 'same' })
      expect(statusCode).toBe(200)
      await body.dump()
    }
    expect(good.bodies).toEqual(['same', 'same', 'same', 'same'])
  })

  it('passes hosts that are not upstreams to the fallback untouched', async () => {
    const other = await server()
    open.push(other)
    const c = prepared(ups([await deadPort()]))
    const dispatcher = c.dispatcher()
    open.push(dispatcher)
    const res = await fetch(`http://127.0.0.1:${other.port}/direct`, { dispatcher })
    expect((await res.text()).split(' ').slice(0, 3)).toEqual([String(other.port), 'GET', '/direct'])
  })

  it('fails with the try error when no peer can be reached', async () => {
    const c = prepared(ups([await deadPort(), await deadPort()]))
    const dispatcher = c.dispatcher()
    open.push(dispatcher)
    const err = await fetch('http://api/', { dispatcher }).then(() => null, (e: Error) => e)
    expect(err).toBeInstanceOf(TypeError)
    expect((err!.cause as { code?: string }).code).toMatch(/^CKP_ERR_/)
  })

  it('works as an interceptor of a composed Agent', async () => {
    const [bad, good] = [await server(502), await server()]
    open.push(bad, good)
    const c = prepared(ups([bad.port, good.port]))
    const agent = new Agent()
    open.push(agent)
    const dispatcher = agent.compose(c.interceptor())
    for (let i = 0; i < 4; i++) {
      const res = await fetch('http://api/i', { dispatcher })
      expect(res.status).toBe(200)
      await res.arrayBuffer()
    }
    expect(good.hits).toBe(4)
  })
})
