// Memory stays flat (the bounded form of scripts/soak/memory.mjs, same assertion shape):
// - a real `node apps/server` (3 workers, heartbeat off so nothing else writes the zones)
//   takes 300 PUT/DELETE cycles through the admin API and proxies traffic meanwhile: every
//   dict zone (config, state, locks, mutex — read from outside, scripts/soak/zones.mjs) is back
//   to its exact entries and used bytes, and no worker's V8 heap has grown past a loose bound;
// - a child with --expose-gc runs 5 000 cycles of the same calls behind PUT and DELETE over
//   real zones: after full collections its heap grows by less than 1 MiB in total (a leaked
//   upstream per cycle would be several), and the zones are byte-identical every round;
// - with the heartbeat on and a slow health check, upstreams deleted while a round probes
//   them leave no health record behind once the next rounds ran.
import { execFileSync } from 'node:child_process'
import { Agent, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error a plain .mjs helper of the soak scripts, without type declarations
import { attachServerZones, zoneUsage } from '../scripts/soak/zones.mjs'
import { AdminServer, startApiServer, sleep, startBackends } from './fixtures/admin-server.js'

const H = '127.0.0.1'
type Usage = Record<string, { entries: number; usedBytes: number }>
let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer

beforeAll(async () => {
  backends = await startBackends(2)
  server = await startApiServer(backends.ports, { workers: 3, global: { default_heartbeat_enable: false }, server: { access_log: { format: 'off' } } })
}, 120_000)

afterAll(async () => {
  agent.destroy()
  await server?.dispose()
  await backends?.close()
})

const agent = new Agent({ keepAlive: true, maxSockets: 4 })
function proxied(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: H, port, path: '/', agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.end()
  })
}

/** worker id → nodejs_heap_size_used_bytes (the last published block of each worker) */
async function heaps(): Promise<Map<number, number>> {
  const text = (await server.get('/metrics')).text
  const out = new Map<number, number>()
  for (const m of text.matchAll(/^nodejs_heap_size_used_bytes\{[^}]*worker="(\d+)"[^}]*\} (\d+(?:\.\d+)?)/gm)) out.set(Number(m[1]), Number(m[2]))
  return out
}

describe('memory flat', () => {
  it('300 PUT/DELETE cycles on a running server: every zone back to its exact bytes, heaps bounded', async () => {
    const workers = await server.workerTable()
    const zones = attachServerZones(workers[0]!.pid) as Map<string, unknown>
    expect([...zones.keys()].sort()).toEqual(['config', 'locks', 'mutex', 'state'])
    const cycle = async (skey: string, i: number): Promise<void> => {
      const put = await server.putJson(`/upstreams/${skey}`, { cluster: [{ servers: [{ host: H, port: 1000 + i }, { host: 'h.example', port: 80 + (i % 100), weight: 2 }] }] })
      expect(put.status).toBe(200)
      expect((await server.send('DELETE', `/upstreams/${skey}`)).status).toBe(200)
    }
    for (let i = 0; i < 20; i++) await cycle(`warm${i}`, i) // warm-up
    for (let i = 0; i < 200; i++) expect(await proxied(server.proxyPort)).toBe(200)
    const before = zoneUsage(zones) as Usage
    await sleep(1500) // a /metrics block published after the warm-up
    const heapBefore = await heaps()
    expect(heapBefore.size).toBe(3)

    let stop = false
    const traffic = (async () => {
      let n = 0
      while (!stop) {
        expect(await proxied(server.proxyPort)).toBe(200)
        n++
      }
      return n
    })()
    // two writers, the same skeys over and over and fresh ones
    await Promise.all([0, 1].map(async (w) => {
      for (let i = 0; i < 150; i++) await cycle(i % 2 ? `same${w}` : `fresh${w}-${i}`, i)
    }))
    stop = true
    expect(await traffic).toBeGreaterThan(0)
    expect(zoneUsage(zones)).toEqual(before)
    for (const r of (await server.eachWorker('GET', '/upstreams')).values()) expect(Object.keys(r.body as object)).toEqual(['api'])
    await sleep(1500)
    const heapAfter = await heaps()
    // no GC can be forced here: a loose bound that a leak of every written upstream would pass
    for (const [id, h] of heapBefore) expect(heapAfter.get(id)! - h, `worker ${id}`).toBeLessThan(32 * 1024 * 1024)
  }, 120_000)

  it('5 000 cycles after GC (--expose-gc child): heap grows < 1 MiB, zones byte-identical every round', () => {
    const script = fileURLToPath(new URL('./fixtures/memory-cycles.mjs', import.meta.url))
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', script, '5', '1000'], { encoding: 'utf8', timeout: 60_000 })) as {
      baseline: { heap: number; zones: Usage }
      rounds: Array<{ cycles: number; heap: number; zones: Usage }>
    }
    expect(out.rounds.length).toBe(5)
    for (const r of out.rounds) expect(r.zones).toEqual(out.baseline.zones)
    const last = out.rounds[out.rounds.length - 1]!
    expect(last.cycles).toBe(6000)
    expect(last.heap - out.baseline.heap).toBeLessThan(1024 * 1024)
  })

  it('DELETEs racing heartbeat rounds (slow probes): no health record of a deleted upstream is left', async () => {
    // a backend whose health answer takes 600 ms: a round is probing it most of the time
    const slow = createServer((_req, res) => void setTimeout(() => res.end('ok'), 600))
    await new Promise<void>((r) => slow.listen(0, H, r))
    const slowPort = (slow.address() as AddressInfo).port
    const s = new AdminServer({ workers: 2, upstreams: { api: { cluster: [{ servers: [{ host: H, port: backends.ports[0] }] }] } } })
    try {
      await s.start()
      const zones = attachServerZones((await s.workerTable())[0]!.pid) as Map<string, { getKeys(n: number): string[] }>
      const state = zones.get('state')!
      const up = { typ: 'http', timeout: 2, http_opts: { query: 'GET /health HTTP/1.0\r\nHost: a\r\n\r\n' }, cluster: [{ servers: [{ host: H, port: slowPort }] }] }
      for (let i = 0; i < 6; i++) {
        expect((await s.putJson(`/upstreams/gone${i}`, up)).status).toBe(200)
        await sleep(1300) // a round starts with it
        expect((await s.send('DELETE', `/upstreams/gone${i}`)).status).toBe(200)
      }
      // bounded: the next rounds (1 s apart) sweep what a racing round wrote
      let left: string[] = []
      for (let i = 0; i < 40; i++) {
        left = state.getKeys(0).filter((k) => k.includes(':gone'))
        if (left.length === 0) break
        await sleep(250)
      }
      expect(left).toEqual([])
    } finally {
      await s.dispose()
      await new Promise((r) => slow.close(r))
    }
  }, 120_000)
})
