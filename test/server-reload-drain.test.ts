/**
 * A graceful reload drains: keep-alive clients sending through the proxy while the primary
 * replaces every worker three times see no reset and no failed request — a request in
 * flight finishes, a request already sent on an idle keep-alive connection is answered
 * (with `Connection: close`), and the clients reconnect to the new workers.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, Primary } from './fixtures/runtime-harness.js'

const SERVER = fileURLToPath(new URL('../apps/server', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'checkups-drain-'))
const cleanup: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })]
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

function backend(): Promise<number> {
  const srv = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => res.end(JSON.stringify({ url: req.url })))
  })
  cleanup.push(() => new Promise((r) => srv.close(() => r())))
  srv.keepAliveTimeout = 60_000
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port)))
}

/** One GET on the keep-alive agent; resolves to the status, or the error code. */
function get(agent: http.Agent, port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: 10_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(String(res.statusCode)))
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })))
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

describe('graceful reload', () => {
  it('keep-alive clients through 3 reloads: every request answered, 0 resets', async () => {
    const b = await backend()
    const [listen, admin] = [await freePort(), await freePort()]
    const file = join(dir, 'drain.config.mjs')
    writeFileSync(file, `export default {
      global: { default_heartbeat_enable: false },
      api: { timeout: 5, cluster: [{ servers: [{ host: '127.0.0.1', port: ${b} }] }] },
      server: { routes: [{ upstream: 'api' }] },
    }\n`)
    const p = new Primary([SERVER, '--config', file, '--workers', '2', '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`])
    cleanup.push(() => p.kill())
    await p.waitLog('all workers ready', undefined, 30_000)

    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    cleanup.push(() => agent.destroy())
    const results = new Map<string, number>()
    let running = true
    const client = async (c: number): Promise<void> => {
      for (let i = 0; running && i < 100_000; i++) {
        const r = await get(agent, listen, `/c${c}/${i}`)
        results.set(r, (results.get(r) ?? 0) + 1)
      }
    }
    const clients = [0, 1, 2, 3].map(client)
    for (let n = 0; n < 3; n++) {
      const from = p.logs.length
      p.signal('SIGHUP')
      await p.waitLog('reload done', undefined, 60_000, from)
    }
    running = false
    await Promise.all(clients)
    const total = [...results.values()].reduce((a, v) => a + v, 0)
    console.log(`[drain] ${total} requests through 3 reloads: ${JSON.stringify(Object.fromEntries(results))}`)
    expect(total).toBeGreaterThan(50)
    expect(Object.fromEntries(results)).toEqual({ 200: total })
    expect(p.find('worker crashed')).toBeUndefined()
  }, 120_000)
})
