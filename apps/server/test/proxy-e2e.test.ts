/**
 * End to end through the real runtime: `node apps/server --config <fixture> --workers 2`
 * (primary + 2 workers, shared-memory zones, heartbeat leader) in front of real backends.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../../test/fixtures/net.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBackend, type Backend } from './fixtures/backend.js'
import { backendOf, get, many } from './fixtures/client.js'
import { bothWorkersReady, spawnRuntime, stopRuntime } from './fixtures/runtime.js'

let dir = ''
let proc: ChildProcess
let bs: Backend[] = []
let proxyUrl = ''
let adminUrl = ''
let output = ''


async function until(fn: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fn().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`gave up waiting for ${what}\n${output}`)
}

beforeAll(async () => {
  bs = await Promise.all(['e1', 'e2', 'e3'].map((n) => startBackend(n)))
  const [proxyPort, adminPort] = [await freePort(), await freePort()]
  proxyUrl = `http://127.0.0.1:${proxyPort}`
  adminUrl = `http://127.0.0.1:${adminPort}`
  dir = mkdtempSync(join(tmpdir(), 'checkups-proxy-e2e-'))
  const config = {
    global: { checkup_timer_interval: 1 },
    api: { typ: 'general', timeout: 2, cluster: [{ servers: bs.map((b) => ({ host: '127.0.0.1', port: b.port, max_fails: 2 })) }] },
    server: {
      listen: `127.0.0.1:${proxyPort}`,
      admin: { listen: `127.0.0.1:${adminPort}` },
      routes: [{ path_prefix: '/api', upstream: 'api', strip_prefix: true }],
      worker_header: true,
    },
  }
  proc = spawnRuntime(dir, config, (text) => (output += text))
  await until(() => bothWorkersReady(adminUrl), 'both workers')
  await until(async () => (await get(`${proxyUrl}/api/ping`)).status === 200, 'the proxy')
})

afterAll(async () => {
  await stopRuntime(proc)
  await Promise.all(bs.map((b) => b.close()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('proxy through the runtime (node apps/server)', () => {
  it('serves every backend from both workers; 404 for an unrouted path', async () => {
    const replies = await many(300, 8, () => get(`${proxyUrl}/api/x`))
    expect(replies.filter((r) => r.status !== 200)).toEqual([])
    expect(new Set(replies.map(backendOf))).toEqual(new Set(['e1', 'e2', 'e3']))
    expect(new Set(replies.map((r) => r.headers['x-checkups-worker']))).toEqual(new Set(['0', '1']))
    const nf = await get(`${proxyUrl}/elsewhere`)
    expect(nf.status).toBe(404)
  })

  it('a stopped backend: no client errors, and /status shows it err after a heartbeat round', async () => {
    const victim = bs[2] as Backend
    await victim.close()
    const replies = await many(200, 8, () => get(`${proxyUrl}/api/y`))
    expect(replies.filter((r) => r.status !== 200)).toEqual([])
    const status = async (): Promise<string | undefined> => {
      const st = JSON.parse((await get(`${adminUrl}/status`)).text) as Record<string, Array<Array<{ server: string; status: string }>>>
      return st['cls:api']?.[0]?.find((p) => p.server === `api:127.0.0.1:${victim.port}`)?.status
    }
    await until(async () => (await status()) === 'err', 'the heartbeat to mark the stopped backend')
    expect(await status()).toBe('err')
  })
})
