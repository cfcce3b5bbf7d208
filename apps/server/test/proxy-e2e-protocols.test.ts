/**
 * Through the real runtime (`node apps/server --workers 2`): WebSocket with the `ws` library
 * (a dead first peer retried, counted, every connection echoing), 1 000 hostile requests that
 * leave every peer uncounted, and the HTTPS listener re-reading its certificate on SIGHUP
 * while an open WebSocket and keep-alive traffic carry on.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { deadPort as deadPortOf, freePort } from '../../../test/fixtures/net.js'
import { makeCerts, type Certs } from './fixtures/certs.js'
import { get, many } from './fixtures/client.js'
import { bothWorkersReady, spawnRuntime, stopRuntime } from './fixtures/runtime.js'

let dir = ''
let proc: ChildProcess
let output = ''
let certs: Certs
let proxyPort = 0
let adminUrl = ''
let deadPort = 0
const backends: Array<{ server: Server; wss: WebSocketServer; port: number }> = []

async function until(fn: () => Promise<boolean>, what: string, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await fn().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`gave up waiting for ${what}\n${output}`)
}

async function wsBackend(name: string): Promise<{ server: Server; wss: WebSocketServer; port: number }> {
  const server = createServer((req, res) => res.end(JSON.stringify({ backend: name, url: req.url })))
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(`${name}: ${d.toString()}`)))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, wss, port: (server.address() as AddressInfo).port }
}

function tlsGet(path: string): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: proxyPort, path, servername: 'localhost', ca: readFileSync(certs.ca), agent: false }, (res) => {
      const serial = ((res.socket as TLSSocket).getPeerCertificate().serialNumber ?? '').toUpperCase()
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }))
    })
    req.on('error', reject)
    req.end()
  })
}

function wssOpen(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${proxyPort}/ws/chat`, { ca: readFileSync(certs.ca), servername: 'localhost' })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (d) => resolve(d.toString()))
    ws.send(text)
  })
}

beforeAll(async () => {
  certs = makeCerts()
  backends.push(await wsBackend('e1'), await wsBackend('e2'))
  deadPort = await deadPortOf()
  proxyPort = await freePort()
  const adminPort = await freePort()
  adminUrl = `http://127.0.0.1:${adminPort}`
  dir = mkdtempSync(join(tmpdir(), 'checkups-proxy-protocols-'))
  const peers = [{ host: '127.0.0.1', port: deadPort, weight: 50, max_fails: 1000, fail_timeout: 30 }, ...backends.map((b) => ({ host: '127.0.0.1', port: b.port, max_fails: 1, fail_timeout: 30 }))]
  const config = {
    global: { default_heartbeat_enable: false },
    ws: { timeout: 2, cluster: [{ servers: peers }] },
    server: {
      listen: `127.0.0.1:${proxyPort}`,
      admin: { listen: `127.0.0.1:${adminPort}` },
      tls: { cert: certs.cert, key: certs.key },
      max_body_size: 2048,
      routes: [{ path_prefix: '/ws', upstream: 'ws' }],
    },
  }
  proc = spawnRuntime(dir, config, (text) => (output += text))
  await until(() => bothWorkersReady(adminUrl), 'both workers')
  await until(async () => (await tlsGet('/ws/ping')).status === 200, 'the proxy')
}, 60_000)

afterAll(async () => {
  await stopRuntime(proc)
  for (const b of backends) {
    for (const c of b.wss.clients) c.terminate()
    b.server.closeAllConnections()
    await new Promise<void>((r) => b.server.close(() => r()))
  }
  certs?.remove()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** passive failure counts of the ws peers, from the admin API (shared memory, all workers) */
async function passive(): Promise<number[]> {
  const st = JSON.parse((await get(`${adminUrl}/status`)).text) as Record<string, Array<Array<{ passive?: { count: number } }>>>
  return (st['cls:ws'] ?? []).flat().map((p) => p.passive?.count ?? 0)
}

describe('protocols through node apps/server (2 workers)', () => {
  it('40 WebSockets over TLS all echo; the dead first peer is retried and counted, the live ones not', async () => {
    const socks = await many(40, 8, () => wssOpen())
    const replies = await Promise.all(socks.map((ws, i) => echo(ws, `m${i}`)))
    replies.forEach((r, i) => expect(r).toMatch(new RegExp(`^e[12]: m${i}$`)))
    for (const ws of socks) ws.close()
    const counts = await passive()
    expect(counts[0]).toBeGreaterThan(0)
    expect(counts.slice(1)).toEqual([0, 0])
  })

  it('1 000 hostile requests on both workers: no live peer counted', async () => {
    const H = 'Host: localhost\r\n'
    const tlsRaw = async (text: string): Promise<number> => {
      const { connect } = await import('node:tls')
      return new Promise((resolve) => {
        const s = connect({ host: '127.0.0.1', port: proxyPort, servername: 'localhost', ca: readFileSync(certs.ca) }, () => s.end(text))
        let buf = ''
        s.on('data', (c: Buffer) => (buf += c.toString('latin1')))
        s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(buf)?.[1] ?? 0)))
        s.on('error', () => resolve(0))
        s.setTimeout(5_000, () => s.destroy())
      })
    }
    const variants = [
      `GET /ws/x HTTP/1.1\r\n${H}Host: b\r\nConnection: close\r\n\r\n`,
      `POST /ws/x HTTP/1.1\r\n${H}Content-Length: 9000\r\nConnection: close\r\n\r\n`,
      `GET /ws/..%2fx HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
      `POST /ws/x HTTP/1.1\r\n${H}Content-Length: 100\r\nConnection: close\r\n\r\nshort`,
    ]
    const got = await many(1000, 20, (i) => tlsRaw(variants[i % variants.length] as string))
    expect(got.filter((s) => ![0, 400, 413].includes(s))).toEqual([])
    expect(got.filter((s) => s === 400).length).toBeGreaterThanOrEqual(500)
    expect((await passive()).slice(1)).toEqual([0, 0])
  })

  it('SIGHUP: new connections get the re-read certificate; an open WebSocket keeps working', async () => {
    const before = await tlsGet('/ws/a')
    expect(before.serial).toBe(certs.serial(certs.cert))
    const ws = await wssOpen()
    expect(await echo(ws, 'before')).toMatch(/^e[12]: before$/)
    const fresh = certs.reissue()
    expect(fresh).not.toBe(before.serial)
    process.kill(proc.pid as number, 'SIGHUP')
    // the workers are replaced one by one: wait until 20 connections in a row see the new one
    await until(async () => (await many(20, 4, () => tlsGet('/ws/b'))).every((r) => r.status === 200 && r.serial === fresh), 'the new certificate on both workers')
    expect(ws.readyState).toBe(WebSocket.OPEN)
    expect(await echo(ws, 'after')).toMatch(/^e[12]: after$/)
    ws.close()
  })
})
