// The raw socket path of the http and general probes (net.connect, the request queued before
// the connect completes, the status line scanned from the first reads) against real loopback
// TCP servers scripted byte by byte: keep-alive off and on, a status line trickled over
// several writes, chunked bodies, closes and resets without a reply, oversized lines.
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { probeGeneral, probeHttp } from '@checkups/core/heartbeat'
import { deadPort } from './fixtures/heartbeat-servers.js'

const OK = 0, ERR = 2
const QUERY = 'GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
const statuses = { '200': true, '500': false, '502': false }
const ok = { status: OK, msg: null, extras: {} }
const err = (msg: string) => ({ status: ERR, msg, extras: {} })
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Scripted {
  port: number
  /** bytes each connection received, in order of connection */
  received: string[]
  /** connections the server saw end (the probe closed them) */
  closedByPeer: number
}

const servers: net.Server[] = []
const sockets = new Set<net.Socket>()
afterEach(async () => {
  for (const s of sockets) s.destroy()
  sockets.clear()
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A TCP server that runs `script` once a full request head (or, with `eager`, anything) arrived. */
async function scripted(script: (sock: net.Socket) => void | Promise<void>, eager = false): Promise<Scripted> {
  const out: Scripted = { port: 0, received: [], closedByPeer: 0 }
  const server = net.createServer((sock) => {
    sockets.add(sock)
    const idx = out.received.push('') - 1
    let started = false
    sock.on('error', () => {})
    sock.on('end', () => { out.closedByPeer += 1 })
    sock.on('close', () => { if (!sock.readableEnded) out.closedByPeer += 1 })
    const go = (): void => {
      if (started) return
      started = true
      void script(sock)
    }
    if (eager) go()
    sock.on('data', (d) => {
      out.received[idx] += d.toString('latin1')
      if ((out.received[idx] as string).includes('\r\n\r\n')) go()
    })
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  out.port = (server.address() as net.AddressInfo).port
  return out
}

describe('raw http probe', () => {
  it('keep-alive off: the status is judged, the query is sent verbatim once', async () => {
    const s200 = await scripted((c) => { c.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok') })
    const s502 = await scripted((c) => { c.end('HTTP/1.0 502 Bad Gateway\r\n\r\n') })
    expect(await probeHttp('127.0.0.1', s200.port, 2000, { query: QUERY, statuses })).toEqual(ok)
    expect(await probeHttp('127.0.0.1', s502.port, 2000, { query: QUERY, statuses })).toEqual(err('bad status code'))
    expect(s200.received).toEqual([QUERY])
    expect(s502.received).toEqual([QUERY])
  })

  it('keep-alive on: the probe ends at the status line and closes the connection itself', async () => {
    const ka = await scripted((c) => { c.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello') })
    const keepAlive = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
    expect(await probeHttp('127.0.0.1', ka.port, 2000, { query: keepAlive, statuses })).toEqual(ok)
    for (let i = 0; i < 100 && ka.closedByPeer === 0; i++) await pause(10)
    expect(ka.closedByPeer).toBe(1)
  })

  it('a status line trickled over several writes (CR and LF split too) is read whole', async () => {
    const slow = await scripted(async (c) => {
      for (const piece of ['HTT', 'P/1.1 2', '00 O', 'K\r', '\nContent-Length: 0\r\n\r\n']) {
        c.write(piece)
        await pause(30)
      }
      c.end()
    })
    const slowBad = await scripted(async (c) => {
      for (const piece of ['HTTP/1.1 5', '00 Internal\r', '\n\r\n']) { c.write(piece); await pause(30) }
    })
    expect(await probeHttp('127.0.0.1', slow.port, 2000, { query: QUERY, statuses })).toEqual(ok)
    expect(await probeHttp('127.0.0.1', slowBad.port, 2000, { query: QUERY, statuses })).toEqual(err('bad status code'))
  })

  it('a status line that never completes within the timeout is a timeout', async () => {
    const stuck = await scripted((c) => { c.write('HTTP/1.1 20') })
    expect(await probeHttp('127.0.0.1', stuck.port, 300, { query: QUERY, statuses })).toEqual(err('timeout'))
  })

  it('chunked answers: judged by the status line whatever the body does', async () => {
    const chunked = await scripted(async (c) => {
      c.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')
      await pause(20)
      c.end('0\r\n\r\n')
    })
    const chunked500 = await scripted((c) => { c.end('HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n') })
    expect(await probeHttp('127.0.0.1', chunked.port, 2000, { query: QUERY, statuses })).toEqual(ok)
    expect(await probeHttp('127.0.0.1', chunked500.port, 2000, { query: QUERY, statuses })).toEqual(err('bad status code'))
  })

  it('close without a reply, close mid status line, reset, bare LF → closed / reset', async () => {
    const closes = await scripted((c) => { c.end() })
    const partial = await scripted((c) => { c.end('HTTP/1.1 200') })
    const bareLf = await scripted((c) => { c.end('HTTP/1.1 200 OK\n\n') })
    const reset = await scripted((c) => { c.resetAndDestroy() })
    expect(await probeHttp('127.0.0.1', closes.port, 2000, { query: QUERY, statuses })).toEqual(err('closed'))
    expect(await probeHttp('127.0.0.1', partial.port, 2000, { query: QUERY, statuses })).toEqual(err('closed'))
    expect(await probeHttp('127.0.0.1', bareLf.port, 2000, { query: QUERY, statuses })).toEqual(err('closed'))
    expect(await probeHttp('127.0.0.1', reset.port, 2000, { query: QUERY, statuses })).toEqual(err('connection reset by peer'))
  })

  it('a line past 8 KiB without CRLF is refused; not a status line at all is a bad status line', async () => {
    const long = await scripted((c) => { c.write('HTTP/1.1 200 ' + 'x'.repeat(9000)) })
    const junk = await scripted((c) => { c.end('SSH-2.0-OpenSSH_9.6\r\n') })
    expect(await probeHttp('127.0.0.1', long.port, 2000, { query: QUERY, statuses })).toEqual(err('status line too long'))
    expect(await probeHttp('127.0.0.1', junk.port, 2000, { query: QUERY, statuses })).toEqual(err('bad status line'))
    expect((await probeHttp('127.0.0.1', junk.port, 2000, { query: QUERY })).status).toBe(OK)
  })

  it('many probes at once share the read path without mixing answers', async () => {
    const good = await scripted((c) => { c.end('HTTP/1.1 200 OK\r\n\r\n') })
    const bad = await scripted((c) => { c.end('HTTP/1.1 502 No\r\n\r\n') })
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      probeHttp('127.0.0.1', i % 2 ? bad.port : good.port, 5000, { query: QUERY, statuses })))
    expect(results.filter((r, i) => r.status === (i % 2 ? ERR : OK)).length).toBe(200)
    expect(good.received.length + bad.received.length).toBe(200)
  })
})

describe('connected callback (frees the round\'s work slot)', () => {
  it('fires once after connect with the request sent; never for a refused connect', async () => {
    const hang = await scripted(() => {})
    let calls = 0
    const r = probeHttp('127.0.0.1', hang.port, 300, { query: QUERY, statuses }, undefined, () => { calls += 1 })
    expect(await r).toEqual(err('timeout'))
    expect(calls).toBe(1)
    expect(hang.received).toEqual([QUERY])
    let refused = 0
    expect(await probeGeneral('127.0.0.1', await deadPort(), 2000, () => { refused += 1 })).toEqual(err('connection refused'))
    expect(refused).toBe(0)
  })

  it('general and query-less http probes send nothing', async () => {
    const s = await scripted(() => {}, true)
    let calls = 0
    expect(await probeGeneral('127.0.0.1', s.port, 2000, () => { calls += 1 })).toEqual(ok)
    expect(await probeHttp('127.0.0.1', s.port, 2000, { query: null, statuses }, undefined, () => { calls += 1 })).toEqual(ok)
    for (let i = 0; i < 100 && s.closedByPeer < 2; i++) await pause(10)
    expect(calls).toBe(2)
    expect(s.received).toEqual(['', ''])
  })
})
