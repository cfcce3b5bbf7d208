// 10 000 malformed admin requests against a real `node apps/server` (3 workers), drawn from a
// seeded PRNG (reproducible: FUZZ_SEED): unknown paths, bad skeys, wrong methods, bodies that
// are not JSON, not JSON-typed, invalid upstreams (bad ports, hosts with CR/LF, lone
// surrogates or `host:port`, tiny or huge timeouts, deep nesting, `__proto__`), bytes that are
// not UTF-8, bodies over the limit, and raw-socket garbage the HTTP parser refuses. Every
// answer is a 4xx/5xx carrying a JSON error code; no worker exits; the upstreams, the config
// version and the state file are exactly what they were.
import { existsSync, readFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, startBackends } from './fixtures/admin-server.js'

const TOTAL = 10_000
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed)
const H = '127.0.0.1'
let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer

/** mulberry32: a small seeded PRNG */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Fuzz { method: string; path: string; headers: Record<string, string>; body?: Buffer; raw?: Buffer }

function generator(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  const freshSkey = () => `fz${int(1e9)}`
  const badSkey = () => pick(['a'.repeat(129 + int(50)), 'a%20b', 'global', 'server', '%00', 'x%0D%0Ay', '%C3%28', '%FF', 'a%2Fb', '%E2%80%AE', '~'.repeat(200), 'a*b', 'a%3Fb'])
  const server = () => ({ host: H, port: 1 + int(65535) })
  const upstream = () => ({ timeout: 1 + int(10), cluster: [{ servers: [server()] }] })
  /** an upstream with at least one thing wrong */
  const badUpstream = (): unknown => {
    const u = upstream() as Record<string, unknown> & { cluster: Array<{ servers: Array<Record<string, unknown>> }> }
    const s = u.cluster[0]!.servers[0]!
    switch (int(22)) {
      case 0: s['port'] = pick([0, -1, 65536, 70000, 1.5, '0', '80x', null, 1e309]); break
      case 1: s['host'] = pick(['', 'a\r\nb', 'a\nHost: x', '\ud800', 'x\udc00y', '127.0.0.1:80', ' ', 'a b', 'h'.repeat(300), 'a\u0000b', 5, null]); break
      case 2: s['weight'] = pick([0, -1, 1.5, 'x', 1e12]); break
      case 3: u['timeout'] = pick([1e-9, 0, -1, 1e12, 'x', Number.MAX_VALUE]); break
      case 4: u['mode'] = pick(['nope', 1, '', 'HASH']); break
      case 5: u['typ'] = pick(['nope', 2, 'HTTP']); break
      case 6: u['try'] = pick([-1, 0.5, 'x', 1e9]); break
      case 7: u['cluster'] = pick(['x', [], {}, [{}], [{ servers: [] }], [{ servers: 'x' }], null, 5]); break
      case 8: u['unknown_key_' + int(100)] = 1; break
      case 9: return pick([null, {}, [], 0, 'x', true])
      case 10: s['max_fails'] = pick([-1, 1.5, 'x', 1e12]); break
      case 11: s['fail_timeout'] = pick([-1, 'x', 1e12]); break
      case 12: u['http_opts'] = pick(['x', { query: 5 }, { statuses: 'x' }]); break
      case 13: u['sensibility'] = pick([0, -1, 'x']); break
      case 14: u['protected'] = pick(['yes', 1]); break
      case 15: return JSON.parse('{"cluster":[{"servers":[{"host":"127.0.0.1","port":80,"__proto__":{"x":1}}]}]}')
      case 16: u['read_timeout'] = pick([1e-9, -5, 1e15]); break
      case 17: s['host'] = 'x'.repeat(int(10)) + '.'.repeat(1 + int(3)) + 'y'; s['port'] = 0; break
      case 18: (u.cluster as unknown[]).push(...Array.from({ length: 1 + int(3) }, () => ({ servers: [{ host: 'h', port: -1 }] }))); break
      case 19: s['host'] = pick(['::1', '[::1]', 'fe80::1%eth0', '999.1.1.1']); s['port'] = pick([0, 99999]); break
      case 20: u['cluster'] = { c1: pick([[], 'x', { servers: 5 }]) }; break
      default: u['send_timeout'] = pick(['1s', -1, 1e-12]); break
    }
    return u
  }
  const badJson = (): string => pick(['{', '{"cluster":', 'nul', '[1,2', '"\\u12"', '{"a":1}}', '{"a":1,}', "{'a':1}", '{"cluster":[{"servers":[{"host":"h","port":80}]}]', 'NaN', '1e', '{"a":"\\x"}', '[' .repeat(5000) + ']'.repeat(5000), '{"a":' .repeat(3000) + '1' + '}'.repeat(3000), '\ufeff{}'])
  const json = { 'content-type': 'application/json' }
  const body = (): { headers: Record<string, string>; body: Buffer } => {
    switch (int(8)) {
      case 0: return { headers: json, body: Buffer.from(badJson()) }
      case 1: return { headers: { 'content-type': pick(['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'json', 'application/jsonx', '']) }, body: Buffer.from(JSON.stringify(upstream()).replace(/"port":\d+/, '"port":0')) }
      case 2: { // bytes that are not UTF-8 inside a host
        const b = Buffer.from(JSON.stringify({ cluster: [{ servers: [{ host: 'HOSTBYTES', port: 80 }] }] }))
        const i = b.indexOf('HOSTBYTES')
        const junk = Buffer.from(pick([[0xc3, 0x28], [0xff, 0xfe], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x28, 0xa1]]))
        return { headers: json, body: Buffer.concat([b.subarray(0, i), junk, b.subarray(i + 9)]) }
      }
      case 3: if (int(20) === 0) return { headers: json, body: Buffer.alloc(1024 * 1024 + 1 + int(1000), 0x20) }
      // falls through
      default: return { headers: json, body: Buffer.from(JSON.stringify(badUpstream())) }
    }
  }
  const rawGarbage = (): Buffer => Buffer.from(pick([
    'GET /status HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n',
    'GET /status HTTP/9.9\r\nHost: a\r\n\r\n',
    'GET\t/status HTTP/1.1\r\n\r\n',
    'PUT /upstreams/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
    'PUT /upstreams/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'PUT /upstreams/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    'PUT /upstreams/x HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n',
    `GET /status HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
    'GET /status HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n',
    '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
    'GET /st\x7fatus HTTP/1.1\r\n\r\n',
    'HELLO\r\n\r\n',
  ]))
  return (): Fuzz => {
    const kind = int(100)
    if (kind < 8) return { method: 'RAW', path: '', headers: {}, raw: rawGarbage() }
    if (kind < 18) return { method: pick(['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS']), path: pick([`/x${int(1e6)}`, `/upstreams/${freshSkey()}/nope`, '/status/extra', '/%ZZ', `/upstreams/${freshSkey()}/peer/x`, '/workers/0', '/upstreams/api/servers/x/y', '/..%2f..%2fetc']), headers: {} }
    if (kind < 30) return { method: pick(['PATCH', 'TRACE', 'FOO', 'PROPFIND', 'PUT', 'POST', 'DELETE', 'M-SEARCH']), path: pick(['/status', '/workers', '/metrics', '/stats', '/openapi.json', '/upstreams']), headers: {} }
    if (kind < 40) return { method: pick(['GET', 'DELETE']), path: pick([`/upstreams/${freshSkey()}`, `/upstreams/${freshSkey()}/peer`, `/upstreams/${freshSkey()}/timeout`, `/upstreams/${badSkey()}`, `/upstreams/api/servers/${H}:${1 + int(65535)}`]), headers: {} }
    if (kind < 45) return { method: 'GET', path: `/upstreams/api/peer?${pick(['cluster_key=%ZZ', 'cluster_key=junk', 'cluster_key=1&cluster_key=2', 'hash_key=' + 'k'.repeat(5000) + '&hash_key=x', 'cluster_key=1&cluster_key=1'])}`, headers: {} }
    const b = body()
    if (kind < 80) return { method: 'PUT', path: `/upstreams/${pick([freshSkey(), freshSkey(), 'api', badSkey()])}`, ...b }
    if (kind < 90) return { method: 'POST', path: pick(['/upstreams/api/feedback', `/upstreams/${freshSkey()}/feedback`, '/upstreams/api/servers']), headers: b.headers, body: int(2) ? b.body : Buffer.from(pick(['"x"', '5', '[]', '{"failed":"yes"}', '{"peer":5}', '{"host":"a\\r\\nb","port":80}', '{"host":"h","port":0}'])) }
    return { method: 'PATCH', path: `/upstreams/api/servers/${pick([`${H}:${backends.ports[0]}`, 'nope', `${H}:0`])}`, headers: b.headers, body: Buffer.from(pick(['{"weight":0}', '{"weight":"x"}', '{"down":"yes"}', '{"port":70000}', '[]', 'x'])) }
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 })

/** status, content-type and parsed body (undefined when not JSON), or the connection error */
function send(port: number, f: Fuzz): Promise<{ status: number; type: string; body: unknown }> {
  if (f.raw) return sendRaw(port, f.raw)
  return new Promise((resolve, reject) => {
    const headers = { ...f.headers, ...(f.body ? { 'content-length': String(f.body.length) } : {}) }
    const req = httpRequest({ host: H, port, method: f.method, path: f.path, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        let body: unknown
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch {
          body = undefined
        }
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body })
      })
    })
    let answered = false
    req.on('response', () => (answered = true))
    // a 413 may be answered before the whole upload is written; then the write error is moot
    req.on('error', (err) => (answered ? undefined : reject(err)))
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer to ${f.method} ${f.path}`)))
    req.end(f.body)
  })
}

function sendRaw(port: number, bytes: Buffer): Promise<{ status: number; type: string; body: unknown }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0)
    const s = connect(port, H, () => s.write(bytes))
    const t = setTimeout(() => s.destroy(), 10_000)
    s.on('data', (c: Buffer) => (buf = Buffer.concat([buf, c])))
    s.on('error', () => undefined)
    s.on('close', () => {
      clearTimeout(t)
      const text = buf.toString('latin1')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)
      const sep = text.indexOf('\r\n\r\n')
      let body: unknown
      try {
        body = JSON.parse(text.slice(sep + 4))
      } catch {
        body = undefined
      }
      resolve({ status, type: /content-type: *([^\r]*)/i.exec(text)?.[1] ?? '', body })
    })
  })
}

beforeAll(async () => {
  backends = await startBackends(1)
  server = new AdminServer({ workers: 3, upstreams: { api: { cluster: [{ servers: [{ host: H, port: backends.ports[0] }] }] } } })
  await server.start()
}, 120_000)

afterAll(async () => {
  agent.destroy()
  await server?.dispose()
  await backends?.close()
})

describe('admin fuzz', () => {
  it(`${TOTAL} malformed requests: every answer a JSON 4xx/5xx, no worker exits, nothing changed`, async () => {
    // one accepted write first, so the state file exists and its bytes can be compared
    expect((await server.putJson('/upstreams/keep', { cluster: [{ servers: [{ host: H, port: 9 }] }] })).status).toBe(200)
    const workersBefore = await server.workerTable()
    const upstreamsBefore = (await server.get('/upstreams')).text
    const versionBefore = ((await server.get('/status')).body as { shd_config_version: number }).shd_config_version
    const stateBefore = readFileSync(server.stateFile)

    const next = generator(prng(SEED))
    const cases = Array.from({ length: TOTAL }, next)
    const bad: string[] = []
    const byStatus = new Map<number, number>()
    let i = 0
    const lane = async (): Promise<void> => {
      while (i < cases.length) {
        const f = cases[i++] as Fuzz
        const what = `${f.method} ${f.path.slice(0, 80)} ${(f.raw ?? f.body ?? Buffer.alloc(0)).subarray(0, 80).toString('latin1')}`
        try {
          const r = await send(server.adminPort, f)
          byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1)
          const code = (r.body as { error?: { code?: unknown } } | undefined)?.error?.code
          if (r.status < 400 || r.status > 599 || !r.type.includes('application/json') || typeof code !== 'string' || !/^[A-Z]+_ERR_[A-Z_]+$/.test(code)) {
            bad.push(`${r.status} ${String(code)} ← ${what}`)
          }
        } catch (err) {
          bad.push(`${String(err)} ← ${what}`)
        }
      }
    }
    await Promise.all(Array.from({ length: 12 }, lane))
    expect(bad.slice(0, 20)).toEqual([])
    expect(cases.length).toBe(TOTAL)

    const workersAfter = await server.workerTable()
    expect(workersAfter.map((w) => [w.id, w.pid, w.restarts, w.state])).toEqual(workersBefore.map((w) => [w.id, w.pid, w.restarts, w.state]))
    expect(server.output).not.toMatch(/"msg":"worker exited/)
    for (const r of (await server.eachWorker('GET', '/upstreams')).values()) expect(r.text).toBe(upstreamsBefore)
    for (const r of (await server.eachWorker('GET', '/status')).values()) {
      expect((r.body as { shd_config_version: number }).shd_config_version).toBe(versionBefore)
    }
    expect(existsSync(server.stateFile) && readFileSync(server.stateFile).equals(stateBefore)).toBe(true)
    console.log(`admin fuzz (seed ${SEED}): ${TOTAL} requests → ${[...byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`)
  }, 180_000)
})
