/**
 * The proxy reports what happened on each attempt through the attempt context readyOk hands
 * it: a peer that breaks off mid-body is a `body_error` of that attempt (balancer + passive
 * accounting), a client that goes away is a `client_abort` (never against the peer).
 * Real loopback backends, a real Checkups over plain-SAB zones.
 */
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Checkups, type AttemptReport } from '@checkups/core'
import { SharedDict } from '@checkups/shdict'
import { startProxy } from '../dist/proxy/index.js'
import { get } from './fixtures/client.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

async function backend(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<number> {
  const sockets = new Set<Socket>()
  const server: Server = createServer(handler)
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanup.push(() => new Promise<void>((r) => { server.close(() => r()); for (const s of sockets) s.destroy() }))
  return (server.address() as AddressInfo).port
}

async function proxyFor(config: Record<string, unknown>, reports: AttemptReport[]): Promise<{ url: string; checkups: Checkups }> {
  const zones = { state: SharedDict.create(1 << 20), mutex: SharedDict.create(1 << 18), locks: SharedDict.create(1 << 18), config: SharedDict.create(1 << 20) }
  new Checkups({ shared: zones }).init(config)
  const checkups = new Checkups({ shared: zones, onAttempt: (r) => reports.push(r) })
  checkups.prepareChecker(config)
  const server = startProxy({ checkups, worker: { id: 0 } }, { listen: '127.0.0.1:0', routes: [{ upstream: 'api' }] })
  await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())))
  cleanup.push(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections() }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, checkups }
}

const noHb = { default_heartbeat_enable: false }

describe('proxy attempt outcomes', () => {
  it('a body that breaks off after the head was accepted is a body_error of that attempt', async () => {
    const port = await backend((req, res) => {
      res.writeHead(200, { 'content-length': '100000' })
      res.write(Buffer.alloc(70 * 1024, 'y')) // past the read-ahead: the response is committed first
      setTimeout(() => req.socket.destroy(), 30)
    })
    const reports: AttemptReport[] = []
    const { url, checkups } = await proxyFor({ global: noHb, api: { cluster: [{ servers: [{ host: '127.0.0.1', port, max_fails: 3 }] }] } }, reports)
    const outcome = await get(`${url}/x`).then(() => 'complete', () => 'cut')
    expect(outcome).toBe('cut')
    await new Promise((r) => setTimeout(r, 50))
    expect(reports.map((r) => [r.port, r.attempt, r.outcome])).toEqual([[port, 1, 'ok'], [port, 1, 'body_error']])
    const peer = (checkups.getStatus()['cls:api'] as { passive?: { count: number } }[][])[0]![0]!
    expect(peer.passive?.count).toBe(1)
  })

  it('a client that leaves before the head is a client_abort: the peer is not failed', async () => {
    let started = 0
    const port = await backend((_req, res) => { started++; setTimeout(() => res.end('late'), 300) })
    const reports: AttemptReport[] = []
    const { url, checkups } = await proxyFor({ global: noHb, api: { cluster: [{ servers: [{ host: '127.0.0.1', port, max_fails: 1 }] }] } }, reports)
    await new Promise<void>((resolve) => {
      const req = request(`${url}/slow`)
      req.on('error', () => resolve())
      req.end()
      const t = setInterval(() => { if (started > 0) { clearInterval(t); req.destroy(); setTimeout(resolve, 100) } }, 5)
    })
    expect(reports.map((r) => r.outcome)).toEqual(['client_abort'])
    const peer = (checkups.getStatus()['cls:api'] as { passive?: { count: number } }[][])[0]![0]!
    expect(peer.passive?.count ?? 0).toBe(0)
  })
})
