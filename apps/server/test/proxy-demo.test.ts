/**
 * The out-of-the-box demo: `server.demo.backends` starts demo backends beside the proxy, and
 * the proxy balances over them.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { demoBackends, startDemoIfConfigured } from '../dist/demo/index.js'
import { backendOf, get, many } from './fixtures/client.js'
import { servers, startTestProxy } from './fixtures/ctx.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.()
})

const listening = (s: Server): Promise<number> =>
  new Promise((resolve) => (s.listening ? resolve((s.address() as AddressInfo).port) : s.once('listening', () => resolve((s.address() as AddressInfo).port))))

describe('demo backends', () => {
  it('reads server.demo.backends; no section → no demo', () => {
    expect(demoBackends({ server: { demo: { backends: ['127.0.0.1:8081', 'localhost:8082', 'junk'] } } })).toEqual([
      { host: '127.0.0.1', port: 8081 },
      { host: 'localhost', port: 8082 },
    ])
    expect(demoBackends({ server: {} })).toEqual([])
    expect(demoBackends(undefined)).toEqual([])
  })

  it('serves /health and describes requests; the proxy balances over them', async () => {
    const rawConfig = { server: { demo: { backends: ['127.0.0.1:0', '127.0.0.1:0'] } } }
    const closers: Array<() => void> = []
    const demo = startDemoIfConfigured({ worker: { id: 1 }, rawConfig, onClose: (fn) => void closers.push(() => void fn()) }, {}, { host: '127.0.0.1', port: 0 })
    cleanup.push(async () => {
      for (const c of closers) c()
    })
    const ports = await Promise.all(demo.map(listening))
    expect(ports).toHaveLength(2)
    const health = await get(`http://127.0.0.1:${ports[0]}/health`)
    expect([health.status, health.text]).toEqual([200, 'ok\n'])

    const p = await startTestProxy({ global: { default_heartbeat_enable: false }, demo: { cluster: [{ servers: servers(ports) }] } }, [{ upstream: 'demo' }])
    cleanup.push(() => p.close())
    const replies = await many(10, 2, () => get(`${p.url}/hello`))
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200))
    expect(new Set(replies.map(backendOf)).size).toBe(2)
    const one = JSON.parse(replies[0]?.text ?? '{}') as Record<string, unknown>
    expect(one).toMatchObject({ method: 'GET', url: '/hello', 'x-forwarded-proto': 'http' })
    const status = await get(`${p.url}/status/418`)
    expect(status.status).toBe(418)
  })
})
