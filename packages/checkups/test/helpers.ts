/** Test helpers: zones in plain SABs, a fake clock, a prepared Checkups, loopback servers. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SharedDict } from '@checkups/shdict'
import { Checkups, type Clock, type SharedZones } from '@checkups/core'

export function makeZones(size = 1024 * 1024): SharedZones<SharedDict> {
  return {
    state: SharedDict.create(size),
    mutex: SharedDict.create(size),
    locks: SharedDict.create(size),
    config: SharedDict.create(size),
  }
}

export interface FakeClock extends Clock {
  advance(ms: number): void
  set(ms: number): void
}

/** A simulated clock: time moves only when told; timers fire on advance. */
export function fakeClock(start = 1_700_000_000_000): FakeClock {
  let t = start
  let seq = 0
  const timers = new Map<number, { at: number; fn: () => void }>()
  const clock: FakeClock = {
    now: () => t,
    setTimeout(fn, ms) {
      const id = ++seq
      timers.set(id, { at: t + ms, fn })
      return id
    },
    clearTimeout(h) {
      timers.delete(h as number)
    },
    advance(ms) {
      const end = t + ms
      for (;;) {
        const due = [...timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (!due) break
        timers.delete(due[0])
        t = due[1].at
        due[1].fn()
      }
      t = end
    },
    set(ms) {
      t = ms
    },
  }
  return clock
}

/** A worker-side Checkups over fresh zones, primary init + prepareChecker done. */
export function prepared(config: unknown, opts: { clock?: Clock; zones?: SharedZones<SharedDict> } = {}): Checkups {
  const zones = opts.zones ?? makeZones()
  const primary = new Checkups({ shared: zones, ...(opts.clock ? { clock: opts.clock } : {}) })
  primary.init(config)
  const c = new Checkups({ shared: zones, ...(opts.clock ? { clock: opts.clock } : {}) })
  c.prepareChecker(config)
  return c
}

export interface Backend {
  port: number
  hits: number
  /** status the next requests get */
  status: number
  close(): Promise<void>
}

/** A loopback HTTP server answering `status` with its own port as body. */
export async function backend(status = 200): Promise<Backend> {
  const b = { port: 0, hits: 0, status } as Backend
  const server: Server = createServer((_req, res) => {
    b.hits++
    res.writeHead(b.status, { connection: 'close' })
    res.end(String(b.port))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  b.port = (server.address() as AddressInfo).port
  b.close = () => new Promise<void>((r) => server.close(() => r()))
  return b
}

/** A loopback port that refuses connections for the whole test (see test/fixtures/net.ts). */
export { deadPort } from '../../../test/fixtures/net.js'

/** GET http://127.0.0.1:port/ → { status, body } (undici-free: node:http). */
export async function httpGet(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/`)
  return { status: res.status, body: await res.text() }
}

/** Letters for a server list, by port: servers are named A, B, ... on ports 1001, 1002, ... */
export function letterOf(port: number): string {
  return String.fromCharCode(64 + port - 1000)
}
