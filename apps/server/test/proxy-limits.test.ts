/**
 * Listener limits on real sockets: header trickling (slowloris) does not stop legitimate
 * requests, headers_timeout closes a connection that never finishes its head, keepalive_timeout
 * closes idle connections, max_connections caps a worker's connections.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startBackend } from './fixtures/backend.js'
import { get, many } from './fixtures/client.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

async function proxy(server: Record<string, unknown>): Promise<TestProxy> {
  const b = await startBackend('l1')
  cleanup.push(() => b.close())
  const p = await startTestProxy({ global: { default_heartbeat_enable: false }, api: { cluster: [{ servers: servers([b.port]) }] } }, [{ upstream: 'api' }], { server })
  cleanup.push(() => p.close())
  return p
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s))
    s.on('error', reject)
  })
}

/** resolves with what the socket received once it is closed (bounded by `ms`, then '<open>') */
function closed(s: Socket, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    const t = setTimeout(() => resolve('<open>'), ms)
    s.on('data', (c: Buffer) => (text += c.toString('latin1')))
    s.on('close', () => {
      clearTimeout(t)
      resolve(text)
    })
  })
}

describe('proxy limits', () => {
  it('500 connections trickling header bytes: 200 legitimate requests are all served meanwhile', async () => {
    const p = await proxy({})
    const socks = await Promise.all(Array.from({ length: 500 }, () => open(p.port)))
    cleanup.push(() => socks.forEach((s) => s.destroy()))
    for (const s of socks) s.write('GET /slow HTTP/1.1\r\nHost: a\r\n')
    let n = 0
    const drip = setInterval(() => {
      for (const s of socks) if (!s.destroyed) s.write(`X-Drip-${n}: 1\r\n`)
      n++
    }, 100)
    cleanup.push(() => clearInterval(drip))
    const replies = await many(200, 10, () => get(`${p.url}/ok`))
    expect(replies.filter((r) => r.status !== 200)).toEqual([])
    expect(socks.filter((s) => s.destroyed).length).toBe(0) // the trickle was still going on
  })

  it('headers_timeout: a head never finished gets 408 and the connection is closed', async () => {
    const p = await proxy({ headers_timeout: 0.3, request_timeout: 1 })
    const s = await open(p.port)
    cleanup.push(() => s.destroy())
    s.write('GET / HTTP/1.1\r\nHost: a\r\n')
    const drip = setInterval(() => !s.destroyed && s.write('X-A: 1\r\n'), 50)
    cleanup.push(() => clearInterval(drip))
    const got = await closed(s, 10_000)
    expect(got).toMatch(/^HTTP\/1\.1 408/)
  })

  it('keepalive_timeout: an idle keep-alive connection is closed by the proxy', async () => {
    const p = await proxy({ keepalive_timeout: 0.2 })
    const s = await open(p.port)
    cleanup.push(() => s.destroy())
    const done = closed(s, 10_000)
    s.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')
    const got = await done
    expect(got).toMatch(/^HTTP\/1\.1 200/)
  })

  it('max_connections: connections past the limit are closed unanswered; those within are served', async () => {
    const p = await proxy({ max_connections: 3 })
    const held = await Promise.all([open(p.port), open(p.port), open(p.port)])
    cleanup.push(() => held.forEach((s) => s.destroy()))
    await new Promise((r) => setTimeout(r, 50))
    const extra = await open(p.port)
    cleanup.push(() => extra.destroy())
    const refused = closed(extra, 5_000)
    extra.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')
    expect(await refused).toBe('')
    const first = held[0] as Socket
    const served = new Promise<string>((resolve) => first.once('data', (c: Buffer) => resolve(c.toString('latin1'))))
    first.write('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')
    expect(await served).toMatch(/^HTTP\/1\.1 200/)
  })

  it.each([
    [{ headers_timeout: 0 }, 'server.headers_timeout: must be a number > 0'],
    [{ max_connections: 1.5 }, 'server.max_connections: must be an integer'],
    [{ headers_timeout: 10, request_timeout: 5 }, 'must be <= server.request_timeout'],
    [{ tls: { cert: 'x' } }, 'server.tls.key'],
  ])('invalid limits %j are refused', async (server, msg) => {
    await expect(proxy(server)).rejects.toThrow(msg)
  })
})
