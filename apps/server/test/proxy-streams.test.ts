/**
 * TCP streams (`server.streams`) against real loopback TCP peers: the peer by readyOk with a
 * refused connect retried on the next peer and counted, bytes both ways, close propagation,
 * idle timeout, no peer → the connection is closed, config validation.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { deadPort, freePort } from '../../../test/fixtures/net.js'
import { passiveCounts, startTestProxy, type TestProxy } from './fixtures/ctx.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

/** a TCP peer answering every chunk with `<name>:<chunk>`; `bye` makes it close */
async function tcpPeer(name: string): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('data', (d) => (d.toString() === 'bye' ? s.end() : s.write(`${name}:${d.toString()}`)))
    s.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  )
  return { port: (server.address() as AddressInfo).port, server, sockets }
}


async function setup(peers: number[], stream: Record<string, unknown> = {}): Promise<{ p: TestProxy; port: number }> {
  const port = await freePort()
  const config = {
    global: { default_heartbeat_enable: false },
    tcp: { timeout: 1, cluster: [{ servers: peers.map((pp, i) => ({ host: '127.0.0.1', port: pp, weight: i === 0 ? 100 : 1, max_fails: 5, fail_timeout: 30 })) }] },
  }
  const p = await startTestProxy(config, [], { server: { streams: [{ listen: `127.0.0.1:${port}`, upstream: 'tcp', ...stream }] } })
  cleanup.push(() => p.close())
  // the stream listener binds right after the proxy's: wait until it accepts (bounded)
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)))
      s.on('error', () => r(false))
    })
    if (up) break
    await new Promise((r) => setTimeout(r, 20))
  }
  return { p, port }
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s))
    s.on('error', reject)
    cleanup.push(() => void s.destroy())
  })
}

function reply(s: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()))
    s.write(text)
  })
}

function closed(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = ''
    s.on('data', (d) => (got += d.toString()))
    s.once('close', () => resolve(got))
  })
}

function passive(p: TestProxy): number[] {
  return passiveCounts(p, 'tcp')
}

describe('TCP streams', () => {
  it('a refused connect is retried on the next peer and counted; bytes flow both ways', async () => {
    const live = await tcpPeer('t1')
    const { p, port } = await setup([await deadPort(), live.port])
    await new Promise((r) => setTimeout(r, 50)) // the readiness probe's own attempt settles
    const before = passive(p)
    const c = await client(port)
    expect(await reply(c, 'hello')).toBe('t1:hello')
    expect(await reply(c, 'again')).toBe('t1:again')
    expect(passive(p)).toEqual([(before[0] as number) + 1, 0])
  })

  it('the first bytes sent before a peer is chosen reach it', async () => {
    const live = await tcpPeer('t2')
    const { port } = await setup([live.port])
    const got = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1')
      cleanup.push(() => void s.destroy())
      s.write('early')
      s.once('data', (d) => resolve(d.toString()))
      s.on('error', reject)
    })
    expect(got).toBe('t2:early')
  })

  it('the peer closing closes the client; the client closing closes the peer', async () => {
    const live = await tcpPeer('t3')
    const { port } = await setup([live.port])
    const c = await client(port)
    const done = closed(c)
    c.write('bye')
    await done
    const c2 = await client(port)
    expect(await reply(c2, 'x')).toBe('t3:x')
    expect(live.sockets.size).toBe(1)
    const peerGone = new Promise<void>((r) => [...live.sockets][0]?.once('close', () => r()))
    c2.destroy()
    await peerGone
  })

  it('idle_timeout closes a silent connection on both sides', async () => {
    const live = await tcpPeer('t4')
    // 1 s, not less: an event-loop stall of a busy machine must not close it before the reply
    const { port } = await setup([live.port], { idle_timeout: 1 })
    const c = await client(port)
    const done = closed(c)
    expect(await Promise.race([reply(c, 'x'), done.then((got) => `closed before the reply (${JSON.stringify(got)})`)])).toBe('t4:x')
    await done
    for (let i = 0; i < 100 && live.sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 50))
    expect(live.sockets.size).toBe(0)
  })

  it('no peer to connect to: the client connection is closed unanswered', async () => {
    const { port } = await setup([await deadPort()])
    const c = await client(port)
    expect(await closed(c)).toBe('')
  })

  it.each([
    [{ listen: '127.0.0.1:1' }, 'server.streams[0].upstream'],
    [{ listen: '127.0.0.1:1', upstream: 'tcp', idle_timeout: 0 }, 'server.streams[0].idle_timeout: must be a number > 0'],
    [{ upstream: 'tcp' }, 'server.streams[0].listen'],
  ])('invalid stream %j is refused', async (stream, msg) => {
    await expect(
      startTestProxy({ global: { default_heartbeat_enable: false }, tcp: { cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] } }, [], { server: { streams: [stream] } }),
    ).rejects.toThrow(msg)
  })
})
