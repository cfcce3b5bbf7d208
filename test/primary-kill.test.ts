// Primary kill -9: a real `node apps/server` (3 workers) takes PUTs from two writers when its
// primary — and only the primary — gets SIGKILL. Its workers must exit on their own (none
// lingers holding the listeners); started again over the same config and state file, it
// serves, and every PUT acknowledged before or around the kill is in every worker. The unit
// in examples/systemd/ is what docs/operations.md shows and restarts such a primary.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, startApiServer, proxyGet, sleep, startBackends } from './fixtures/admin-server.js'

const H = '127.0.0.1'
const one = (port: number) => ({ cluster: [{ servers: [{ host: H, port }] }] })
let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

beforeAll(async () => {
  backends = await startBackends(2)
  server = await startApiServer(backends.ports, { workers: 3 })
}, 120_000)

afterAll(async () => {
  await server?.dispose()
  await backends?.close()
})

describe('primary kill -9', () => {
  it('workers exit, a restart serves, no acknowledged PUT lost', async () => {
    const table = await server.workerTable()
    const workerPids = table.map((w) => w.pid)
    const primary = server.proc?.pid as number
    expect(table.every((w) => (w as { primary_pid?: number }).primary_pid === primary)).toBe(true)

    const acked = new Map<string, number>()
    let stop = false
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < 200 && !stop; i++) {
        const skey = `k${w}-${i}`
        try {
          const r = await server.putJson(`/upstreams/${skey}`, one(30_000 + i))
          if (r.status === 200) acked.set(skey, 30_000 + i)
        } catch {
          if (stop) return // the listeners went away with the workers: not acknowledged
        }
      }
    }
    const writers = Promise.all([writer(0), writer(1)])
    for (let i = 0; i < 200 && acked.size < 10; i++) await sleep(25)
    const proc = server.proc
    const exited = new Promise<void>((r) => proc?.once('exit', () => r()))
    process.kill(primary, 'SIGKILL')
    await exited
    // the workers notice the primary is gone and exit by themselves (bounded wait)
    for (let i = 0; i < 400 && workerPids.some(alive); i++) await sleep(25)
    expect(workerPids.filter(alive)).toEqual([])
    stop = true
    await writers
    expect(acked.size).toBeGreaterThanOrEqual(10)
    // the outage: nothing listens any more
    expect(await proxyGet(server.proxyPort).catch(() => 0)).toBe(0)

    await server.start()
    expect(await proxyGet(server.proxyPort)).toBe(200)
    for (const r of (await server.eachWorker('GET', '/upstreams')).values()) {
      const ups = r.body as Record<string, { cluster: Array<{ servers: Array<{ port: number }> }> }>
      for (const [skey, port] of acked) expect(ups[skey]?.cluster[0]?.servers[0]?.port, skey).toBe(port)
    }
    const newTable = await server.workerTable()
    expect(newTable.some((w) => workerPids.includes(w.pid))).toBe(false)
  }, 120_000)

  it('examples/systemd/checkups.service restarts the primary and is what docs/operations.md shows', () => {
    const unit = readFileSync(new URL('../examples/systemd/checkups.service', import.meta.url), 'utf8')
    for (const line of ['Restart=always', 'KillSignal=SIGQUIT', 'KillMode=mixed', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      expect(unit.split('\n')).toContain(line)
    }
    const docs = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8')
    const block = /```ini\n([\s\S]*?)```/.exec(docs.slice(docs.indexOf('## systemd')))?.[1]
    expect(block).toBe(unit)
  })
})
