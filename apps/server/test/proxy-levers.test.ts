/**
 * The listener and pool levers through the real runtime (primary + 2 workers):
 * `server.reuse_port` (one SO_REUSEPORT socket per worker where Node has it, else the shared
 * socket and a warning) and `server.upstream_pipelining` (several requests in flight per
 * upstream connection). Each must keep every answer correct: both workers serve, every
 * response belongs to its request.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../../test/fixtures/net.js'
import { waitFor } from '../../../test/fixtures/runtime-harness.js'
import { REUSE_PORT } from '../src/proxy/index.js'
import { startBackend, type Backend } from './fixtures/backend.js'
import { get, many, type Reply } from './fixtures/client.js'
import { bothWorkersReady, spawnRuntime, stopRuntime } from './fixtures/runtime.js'

const CONCURRENCY = 32
let dir = ''
let proc: ChildProcess
let backend: Backend
let proxyUrl = ''
let adminUrl = ''
let output = ''

/** waits (bounded) for `fn` to hold; the runtime's output is in the error */
async function until(fn: () => Promise<boolean>, what: string): Promise<void> {
  await waitFor(what, () => fn().then((ok) => ok || undefined), 30_000, 100).catch((err: Error) => {
    throw new Error(`${err.message}\n${output}`)
  })
}

/** One request on a connection of its own (no agent): the kernel or the primary places it. */
function fresh(url: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

beforeAll(async () => {
  backend = await startBackend('lv')
  const [proxyPort, adminPort] = [await freePort(), await freePort()]
  proxyUrl = `http://127.0.0.1:${proxyPort}`
  adminUrl = `http://127.0.0.1:${adminPort}`
  dir = mkdtempSync(join(tmpdir(), 'checkups-proxy-levers-'))
  proc = spawnRuntime(dir, {
    global: { default_heartbeat_enable: false },
    api: { typ: 'general', timeout: 5, cluster: [{ servers: [{ host: '127.0.0.1', port: backend.port }] }] },
    server: {
      listen: `127.0.0.1:${proxyPort}`,
      admin: { listen: `127.0.0.1:${adminPort}` },
      routes: [{ upstream: 'api' }],
      worker_header: true,
      reuse_port: true,
      upstream_pipelining: 4,
      access_log: { format: 'off' },
    },
  }, (text) => (output += text))
  await until(() => bothWorkersReady(adminUrl), 'both workers')
  await until(async () => (await get(`${proxyUrl}/ping`)).status === 200, 'the proxy')
})

afterAll(async () => {
  await stopRuntime(proc)
  await backend?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('server.reuse_port', () => {
  it('says in the listening line whether each worker has its own socket (Node >= 22.12), and warns where it cannot', () => {
    const lines = output.split('\n').filter((l) => l.includes('"proxy_listening"'))
    expect(lines).toHaveLength(2)
    for (const l of lines) expect((JSON.parse(l) as { reuse_port: boolean }).reuse_port).toBe(REUSE_PORT)
    expect(output.includes('proxy_reuse_port_unsupported')).toBe(!REUSE_PORT)
  })

  it('both workers serve new connections, every one answered', async () => {
    const replies = await many(64, 8, () => fresh(`${proxyUrl}/x`))
    expect(replies.filter((r) => r.status !== 200)).toEqual([])
    expect(new Set(replies.map((r) => r.headers['x-checkups-worker']))).toEqual(new Set(['0', '1']))
  })
})

describe('server.upstream_pipelining', () => {
  it(`${CONCURRENCY} slow requests in flight each get their own answer, several at once on one upstream connection`, async () => {
    // requests the backend has received and not yet answered, per connection
    const open = new Map<object, number>()
    let most = 0
    const count = (req: IncomingMessage, res: ServerResponse): void => {
      const n = (open.get(req.socket) ?? 0) + 1
      open.set(req.socket, n)
      most = Math.max(most, n)
      res.once('finish', () => open.set(req.socket, (open.get(req.socket) ?? 1) - 1))
    }
    backend.server.on('request', count)
    backend.mode = 'slow'
    backend.delayMs = 50
    try {
      // the first round opens the pools' connections (undici opens one per request while none
      // is connected yet); in the second the warm connections take several requests each
      for (let round = 0; round < 2; round++) {
        const replies = await many(CONCURRENCY * 2, CONCURRENCY, (i) => get(`${proxyUrl}/headers?n=${round}-${i}`, { 'x-n': `${round}-${i}` }))
        replies.forEach((r, i) => {
          expect(r.status).toBe(200)
          const body = JSON.parse(r.text) as { url: string; headers: Record<string, string> }
          expect(body.url).toBe(`/headers?n=${round}-${i}`)
          expect(body.headers['x-n']).toBe(`${round}-${i}`)
          // the access log is off: no request id is made up for it
          expect(body.headers['x-request-id']).toBeUndefined()
        })
      }
    } finally {
      backend.mode = 'ok'
      backend.server.off('request', count)
    }
    expect(most).toBeGreaterThan(1)
    expect(most).toBeLessThanOrEqual(4)
  })

  it('the per-peer byte counters still count with the access log off', async () => {
    const metrics = (await get(`${adminUrl}/metrics`)).text
    const line = metrics.split('\n').find((l) => l.startsWith('checkups_peer_received_bytes_total{') && l.includes(`:${backend.port}`))
    expect(line).toBeDefined()
    expect(Number(line?.split(' ').at(-1))).toBeGreaterThan(0)
  })
})
