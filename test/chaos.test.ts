// Chaos, bounded: for 15 s (and until two kills were served again, 60 s at most) a real
// `node apps/server` (3 workers, 2 backends) serves proxy traffic and admin PUTs while random
// ready workers are killed with SIGKILL and reloads (SIGHUP) run. Afterwards every
// acknowledged change is in every worker (which read the zone), in the state file and after a
// restart; no proxied request got a 5xx; and every request that failed overlapped a kill — it
// started before the killed worker's slot was serving again (and the primary had reaped the
// killed process: until then it may still hand it new connections) and ended after the kill
// was sent.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, startApiServer, proxyGet, sleep, startBackends } from './fixtures/admin-server.js'

const CHAOS_MS = 15_000
// ... and on until two kills have been served again: on a loaded machine one respawn can take
// most of the 15 s (a worker start measured at 6.8 s on Node 24), leaving a single kill
const CHAOS_MAX_MS = 60_000
const H = '127.0.0.1'
const one = (port: number) => ({ cluster: [{ servers: [{ host: H, port }] }] })
let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer

beforeAll(async () => {
  backends = await startBackends(2)
  server = await startApiServer(backends.ports, { workers: 3 })
}, 120_000)

afterAll(async () => {
  await server?.dispose()
  await backends?.close()
})

describe('chaos', () => {
  it('kills, reloads, traffic and PUTs: no acknowledged change lost, failures only around kills', async () => {
    const t0 = Date.now()
    const epochs: Array<{ from: number; to: number }> = []
    const running = () => Date.now() - t0 < CHAOS_MS || (epochs.length < 2 && Date.now() - t0 < CHAOS_MAX_MS)
    const acked = new Map<string, number>()
    const failures: Array<{ start: number; end: number; error: string }> = []
    const reloads: number[] = []
    let fiveXX = 0
    let ok = 0
    const traffic = async (): Promise<void> => {
      while (running()) {
        const start = Date.now()
        try {
          const status = await proxyGet(server.proxyPort)
          if (status >= 500) fiveXX++
          else ok++
        } catch (err) {
          failures.push({ start, end: Date.now(), error: String(err) })
        }
      }
    }
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; running(); i++) {
        const skey = `c${w}-${i}`
        try {
          const r = await server.putJson(`/upstreams/${skey}`, one(10_000 + i))
          if (r.status === 200) acked.set(skey, 10_000 + i)
        } catch {
          // the answering worker was killed: not acknowledged
        }
      }
    }
    const table = async (): Promise<Array<{ id: number; pid: number; state?: string }>> => {
      try {
        return await server.workerTable()
      } catch {
        return []
      }
    }
    const isReady = (w: { state?: string }) => (w.state ?? 'ready') === 'ready'
    const readyTable = async () => (await table()).filter(isReady)
    const killer = async (): Promise<void> => {
      while (running()) {
        await sleep(1500)
        const ready = await readyTable()
        const victim = ready[Math.floor(Math.random() * ready.length)]
        if (!victim) continue
        const from = Date.now()
        try {
          process.kill(victim.pid, 'SIGKILL')
        } catch {
          continue
        }
        server.trackPid(victim.pid)
        // the epoch lasts until the primary has reaped the killed process and the slot serves
        // again with another one (bounded wait)
        for (let i = 0; i < 200; i++) {
          const all = await table()
          const now = all.filter(isReady)
          if (!all.some((w) => w.pid === victim.pid) && now.some((w) => w.id === victim.id && w.pid !== victim.pid) && now.length >= 3) break
          await sleep(50)
        }
        for (const w of await readyTable()) server.trackPid(w.pid)
        epochs.push({ from, to: Date.now() })
      }
    }
    const reloader = async (): Promise<void> => {
      while (running()) {
        await sleep(3500)
        reloads.push(Date.now())
        server.signal('SIGHUP')
      }
    }
    await Promise.all([traffic(), traffic(), writer(0), writer(1), killer(), reloader()])
    // let the last reload and respawns settle
    await sleep(1000)
    await server.waitReady()

    console.log(`[chaos] ${Date.now() - t0} ms: ${epochs.length} kills, windows ms ${epochs.map((e) => e.to - e.from).join(' ')}; ` +
      `${reloads.length} reloads; ${ok} answered, ${failures.length} failed; ${acked.size} PUTs acknowledged`)
    expect(epochs.length).toBeGreaterThanOrEqual(2)
    expect(acked.size).toBeGreaterThan(10)
    expect(ok).toBeGreaterThan(20)
    expect(fiveXX).toBe(0)
    const outside = failures.filter((f) => !epochs.some((e) => f.start <= e.to && f.end >= e.from))
    // printed with the failure: what the request saw, and the kills and reloads around it
    expect(outside, JSON.stringify({ t0, epochs, reloads })).toEqual([])
    const check = (ups: Record<string, { cluster: Array<{ servers: Array<{ port: number }> }> }>) => {
      for (const [skey, port] of acked) expect(ups[skey]?.cluster[0]?.servers[0]?.port, skey).toBe(port)
    }
    for (const r of (await server.eachWorker('GET', '/upstreams')).values()) check(r.body as never)
    check((JSON.parse(readFileSync(server.stateFile, 'utf8')) as { upstreams: never }).upstreams)
    await server.stop()
    await server.start()
    for (const r of (await server.eachWorker('GET', '/upstreams')).values()) check(r.body as never)
  }, 300_000) // the chaos itself is bounded above; a loaded machine needs time to restart
})
