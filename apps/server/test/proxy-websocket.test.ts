/**
 * WebSocket through the proxy with the `ws` library on both ends (real loopback servers, a
 * real Checkups instance): echo both ways, connect failures retried on the next peer and
 * counted against the dead one, backpressure, idle timeout, close propagation, refusals.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { passiveCounts, startTestProxy, type TestProxy } from './fixtures/ctx.js'
import { deadPort } from '../../../test/fixtures/net.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

interface WsBackend {
  readonly name: string
  readonly port: number
  readonly wss: WebSocketServer
  readonly server: Server
}

async function wsBackend(name: string, opts: { refuse?: number } = {}): Promise<WsBackend> {
  const server = createServer((_req, res) => res.end('plain'))
  const wss = new WebSocketServer({
    server,
    verifyClient: opts.refuse ? (_info, cb) => cb(false, opts.refuse) : undefined,
  })
  wss.on('connection', (ws, req) => {
    ws.send(`hello from ${name} ${req.url}`)
    ws.on('message', (data, isBinary) => {
      const text = data.toString()
      if (text === 'close-please') return ws.close(4001, 'asked')
      ws.send(isBinary ? data : `${name}: ${text}`, { binary: isBinary })
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const b = { name, port: (server.address() as AddressInfo).port, wss, server }
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.close(() => r())
        server.closeAllConnections()
      }),
  )
  return b
}


async function proxy(ports: number[], server: Record<string, unknown> = {}, route: Record<string, unknown> = {}): Promise<TestProxy> {
  const config = {
    global: { default_heartbeat_enable: false },
    ws: { timeout: 2, cluster: [{ servers: ports.map((port, i) => ({ host: '127.0.0.1', port, weight: i === 0 ? 100 : 1, max_fails: 1, fail_timeout: 30 })) }] },
  }
  const p = await startTestProxy(config, [{ path_prefix: '/ws', upstream: 'ws', ...route }], { server })
  cleanup.push(() => p.close())
  return p
}

function open(url: string): Promise<{ ws: WebSocket; first: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    cleanup.push(() => ws.terminate())
    ws.once('message', (d) => resolve({ ws, first: d.toString() }))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected ${res.statusCode}`)))
  })
}

function next(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(d.toString())))
}

function closeOf(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)))
}

function passive(p: TestProxy): number[] {
  return passiveCounts(p, 'ws')
}

describe('proxy: WebSocket', () => {
  it('upgrades through readyOk and echoes text and binary both ways on the normalised path', async () => {
    const b = await wsBackend('w1')
    const p = await proxy([b.port])
    const { ws, first } = await open(`ws://127.0.0.1:${p.port}/ws/./room?x=1`)
    expect(first).toBe('hello from w1 /ws/room?x=1')
    ws.send('ping')
    expect(await next(ws)).toBe('w1: ping')
    const bin = Buffer.from([0, 1, 2, 255])
    const got = new Promise<Buffer>((r) => ws.once('message', (d) => r(d as Buffer)))
    ws.send(bin)
    expect(Buffer.compare(await got, bin)).toBe(0)
  })

  it('a refused connect before the upgrade is retried on the next peer and counted against the dead one', async () => {
    const good = await wsBackend('w2')
    const dead = await deadPort()
    const p = await proxy([dead, good.port])
    const { first } = await open(`ws://127.0.0.1:${p.port}/ws/a`)
    expect(first).toBe('hello from w2 /ws/a')
    expect(passive(p)).toEqual([1, 0])
  })

  it('a peer refusing the upgrade (401) is relayed to the client, not retried', async () => {
    const b = await wsBackend('w3', { refuse: 401 })
    const p = await proxy([b.port])
    await expect(open(`ws://127.0.0.1:${p.port}/ws/x`)).rejects.toThrow('unexpected 401')
  })

  it('a close on either side closes the other', async () => {
    const b = await wsBackend('w4')
    const p = await proxy([b.port])
    const { ws } = await open(`ws://127.0.0.1:${p.port}/ws/c`)
    const code = closeOf(ws)
    ws.send('close-please')
    expect(await code).toBe(4001)
    const second = await open(`ws://127.0.0.1:${p.port}/ws/d`)
    const serverSide = new Promise<void>((r) => [...b.wss.clients].forEach((c) => c.once('close', () => r())))
    second.ws.close(1000)
    await serverSide
    const third = await open(`ws://127.0.0.1:${p.port}/ws/e`)
    const gone = closeOf(third.ws)
    for (const c of b.wss.clients) c.terminate() // the peer's TCP connection dies without a close frame
    expect(await gone).toBe(1006)
  })

  it('websocket_idle_timeout closes a silent tunnel on both sides', async () => {
    const b = await wsBackend('w5')
    const p = await proxy([b.port], { websocket_idle_timeout: 0.3 })
    const { ws } = await open(`ws://127.0.0.1:${p.port}/ws/idle`)
    const serverSide = new Promise<void>((r) => [...b.wss.clients].forEach((c) => c.once('close', () => r())))
    expect(await closeOf(ws)).toBe(1006)
    await serverSide
  })

  it('backpressure: a client that does not read holds the peer back; every byte arrives once it reads', async () => {
    const b = await wsBackend('w6')
    const p = await proxy([b.port])
    const { ws } = await open(`ws://127.0.0.1:${p.port}/ws/bp`)
    const peerWs = [...b.wss.clients][0] as WebSocket
    ws.pause()
    const chunk = Buffer.alloc(256 * 1024, 7)
    const total = 128 // 32 MiB
    for (let i = 0; i < total; i++) peerWs.send(chunk)
    await new Promise((r) => setTimeout(r, 500))
    // the proxy pauses the peer socket once the client socket is full: most bytes still wait at the peer
    expect(peerWs.bufferedAmount).toBeGreaterThan(16 * 1024 * 1024)
    let received = 0
    const all = new Promise<void>((resolve) =>
      ws.on('message', (d) => {
        received += (d as Buffer).length
        if (received === total * chunk.length) resolve()
      }),
    )
    ws.resume()
    await all
    expect(received).toBe(total * chunk.length)
  })

  it('no route and a bad path are answered on the socket; nothing counts against a peer', async () => {
    const b = await wsBackend('w7')
    const p = await proxy([b.port])
    await expect(open(`ws://127.0.0.1:${p.port}/elsewhere`)).rejects.toThrow('unexpected 404')
    await expect(open(`ws://127.0.0.1:${p.port}/ws/..%2fsecret`)).rejects.toThrow('unexpected 400')
    expect(passive(p)).toEqual([0])
  })
})
