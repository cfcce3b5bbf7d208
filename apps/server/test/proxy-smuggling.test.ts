/**
 * Request smuggling and slowloris on raw sockets against a real proxy over a real backend.
 * Each ambiguous framing (CL+TE, obfuscated Transfer-Encoding, conflicting or signed
 * Content-Length, bare LF, obs-fold, odd request lines) is sent with a second request glued
 * behind it — the one a desynchronised hop would see — and must get 400 with nothing reaching
 * the backend: no connection, no request. 2 000 connections trickling header bytes leave
 * legitimate traffic answered (counts only, no timing).
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from './fixtures/backend.js'
import { get, many } from './fixtures/client.js'
import { raw } from './fixtures/raw.js'
import { servers, startTestProxy, type TestProxy } from './fixtures/ctx.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

async function setup(): Promise<{ p: TestProxy; b: Backend; connections: () => number }> {
  const b = await startBackend('s1')
  cleanup.push(() => b.close())
  let conns = 0
  b.server.on('connection', () => conns++)
  const config = { global: { default_heartbeat_enable: false }, api: { cluster: [{ servers: servers([b.port]) }] } }
  const p = await startTestProxy(config, [{ upstream: 'api' }])
  cleanup.push(() => p.close())
  return { p, b, connections: () => conns }
}

/** everything the proxy sends on one connection until it closes it (bounded by `ms`) */
function untilClosed(port: number, bytes: string, ms = 5_000): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    const s = connect(port, '127.0.0.1', () => s.write(bytes))
    const t = setTimeout(() => s.destroy(), ms)
    s.on('data', (c: Buffer) => (text += c.toString('latin1')))
    s.on('error', () => undefined)
    s.on('close', () => {
      clearTimeout(t)
      resolve(text)
    })
  })
}

/** the request a desynchronised hop would take for a second one */
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'

const VARIANTS: Array<[string, string]> = [
  ['CL + TE', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE + CL', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE: xchunked', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE: chunked-false', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked-false\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE: chunked, identity', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE: identity', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['space before the colon (Transfer-Encoding :)', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE folded onto the previous line (obs-fold)', `POST / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['obs-fold continuation of TE', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['TE with a vertical tab', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['two TE headers, the last not chunked', `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['duplicate CL, different values', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n${SMUGGLED}`],
  ['CL list with different values', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0, 38\r\n\r\n${SMUGGLED}`],
  ['CL with a plus sign', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +38\r\n\r\n${SMUGGLED}`],
  ['CL negative', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n${SMUGGLED}`],
  ['CL with a space inside', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3 8\r\n\r\n${SMUGGLED}`],
  ['CL hexadecimal', `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x26\r\n\r\n${SMUGGLED}`],
  ['bare LF line endings', `POST / HTTP/1.1\nHost: a\nContent-Length: 0\n\n${SMUGGLED}`],
  ['bare LF inside the head', `POST / HTTP/1.1\r\nHost: a\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['bare CR inside a header', `POST / HTTP/1.1\r\nHost: a\r\nX-A: b\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`],
  ['NUL in a header value', `GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n${SMUGGLED}`],
  ['request line: tab separator', `GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ['request line: lower-case version', `GET / http/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ['request line: HTTP/1.2', `GET / HTTP/1.2\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ['request line: HTTP/2.0 over HTTP/1', `GET / HTTP/2.0\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ['request line: no version', `GET /\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ['request line: space in the target', `GET /a b HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ['request line: junk method', `G(T / HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`],
  ['header name with a space', `GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n${SMUGGLED}`],
  ['header without a colon', `GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding chunked\r\n\r\n${SMUGGLED}`],
  ['HTTP/1.1 without Host', `GET / HTTP/1.1\r\nX-A: b\r\n\r\n${SMUGGLED}`],
  ['two Host headers', `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n${SMUGGLED}`],
]

describe('proxy: request smuggling', () => {
  it.each(VARIANTS)('%s → 400, nothing forwarded', async (_name, bytes) => {
    const { p, b, connections } = await setup()
    const text = await untilClosed(p.port, bytes)
    // one answer, 400, then the proxy closed the connection: the glued request got nothing
    expect(text.match(/HTTP\/1\.[01] \d{3}/g)).toEqual(['HTTP/1.1 400'])
    await new Promise((res) => setTimeout(res, 50))
    expect(b.hits).toBe(0)
    expect(connections()).toBe(0)
  })

  it('all variants on one proxy, then a legitimate request: every variant 400, the backend sees only the last', async () => {
    const { p, b } = await setup()
    const got = await many(VARIANTS.length * 4, 8, (i) => raw(p.port, [(VARIANTS[i % VARIANTS.length] as [string, string])[1]]).then((r) => r.status))
    expect(got.filter((s) => s !== 400)).toEqual([])
    expect(b.hits).toBe(0)
    expect((await get(`${p.url}/legit`)).status).toBe(200)
    expect(b.hits).toBe(1)
  })

  it('control: a well-framed chunked POST with a request pipelined behind it → both forwarded, in order', async () => {
    const { p, b } = await setup()
    const text = await untilClosed(p.port, `POST /echo-count HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)
    expect(text.match(/HTTP\/1\.1 200/g)?.length).toBe(2)
    expect(text).toContain('"received":5')
    expect(b.hits).toBe(2)
  })

  it('a malformed chunk size (signed, overflowing) behind a valid head: 400, the peer never gets a whole request nor the glued one', async () => {
    const { p, b } = await setup()
    const seen: string[] = []
    const completed: string[] = []
    b.server.on('request', (req: { url?: string; on(e: string, f: () => void): void }) => {
      seen.push(req.url ?? '')
      req.on('end', () => completed.push(req.url ?? ''))
    })
    for (const size of ['+0', '-1', 'ffffffffffffffffff1', '5;\x00']) {
      const text = await untilClosed(p.port, `POST /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nx\r\n0\r\n\r\n${SMUGGLED}`)
      expect(text.match(/HTTP\/1\.[01] \d{3}/g)?.[0], size).toBe('HTTP/1.1 400')
    }
    await new Promise((res) => setTimeout(res, 100))
    expect(seen.filter((u) => u !== '/body')).toEqual([])
    expect(completed).toEqual([])
  })

  it('repeated spaces in the request line (accepted by the parser) are re-serialised: no desync', async () => {
    const { p, b } = await setup()
    const urls: string[] = []
    b.server.on('request', (req: { url?: string }) => urls.push(req.url ?? ''))
    const text = await untilClosed(p.port, `GET  /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)
    expect(text.match(/HTTP\/1\.1 200/g)?.length).toBe(2)
    expect(urls).toEqual(['/one', '/two'])
  })
})

describe('proxy: slowloris', () => {
  it('2 000 connections trickling header bytes: 300 legitimate requests are all answered meanwhile', async () => {
    const { p } = await setup()
    const socks: Socket[] = []
    cleanup.push(() => socks.forEach((s) => s.destroy()))
    for (let k = 0; k < 20; k++) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => new Promise<Socket>((resolve, reject) => {
        const s = connect(p.port, '127.0.0.1', () => resolve(s))
        s.on('error', reject)
      })))
      for (const s of batch) s.write('GET /slow HTTP/1.1\r\nHost: a\r\n')
      socks.push(...batch)
    }
    let n = 0
    const dripOnce = (): void => {
      for (const s of socks) if (!s.destroyed) s.write(`X-Drip-${n}: 1\r\n`)
      n++
    }
    const drip = setInterval(dripOnce, 100)
    cleanup.push(() => clearInterval(drip))
    const replies = await many(300, 10, async (i) => {
      if (i % 30 === 0) dripOnce() // the trickle goes on between the legitimate requests too
      return get(`${p.url}/ok`)
    })
    expect(replies.filter((r) => r.status !== 200)).toEqual([])
    expect(n).toBeGreaterThanOrEqual(10)
    expect(socks.filter((s) => s.destroyed).length).toBe(0) // the trickle was still going on
  })
})
