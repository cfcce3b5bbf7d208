// Reload keeps what it should (real `node apps/server`, 2 workers): an upstream whose file
// configuration did not change keeps its runtime change, one whose file configuration changed
// takes the file's version (one log line naming it), runtime-created upstreams stay — across
// `POST /reload` and a restart. A reload that fails (a replacement worker cannot start)
// changes nothing: upstreams, version and state file bytes are as before.
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, startBackends } from './fixtures/admin-server.js'

let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer | undefined
const H = '127.0.0.1'
const JSON_CT = { 'content-type': 'application/json' }
const one = (...ports: number[]) => ({ cluster: [{ servers: ports.map((port) => ({ host: H, port })) }] })
const portsOf = (ups: unknown): number[] =>
  ((ups as { cluster: Array<{ servers: Array<{ port: number }> }> }).cluster[0]?.servers ?? []).map((s) => s.port)
const weightsOf = (ups: unknown): number[] =>
  ((ups as { cluster: Array<{ servers: Array<{ weight: number }> }> }).cluster[0]?.servers ?? []).map((s) => s.weight)

beforeAll(async () => {
  backends = await startBackends(3)
})
afterEach(async () => {
  await server?.dispose()
  server = undefined
})
afterAll(async () => {
  await backends?.close()
})

async function everyWorker(s: AdminServer): Promise<Array<Record<string, unknown>>> {
  return [...(await s.eachWorker('GET', '/upstreams')).values()].map((r) => r.body as Record<string, unknown>)
}

describe('reload keeps runtime changes of unchanged upstreams', () => {
  it('edit a and b in the file while b, c carry runtime changes and d was created at runtime', async () => {
    const [p1, p2, p3] = backends.ports as [number, number, number]
    const s = (server = new AdminServer({ workers: 2, upstreams: { a: one(p1), b: one(p1), c: one(p1) } }))
    await s.start()
    const patch = (skey: string, port: number, body: unknown) =>
      s.send('PATCH', `/upstreams/${skey}/servers/${H}:${port}`, { body: JSON.stringify(body), headers: JSON_CT })
    expect((await patch('b', p1, { weight: 5 })).status).toBe(200)
    expect((await patch('c', p1, { weight: 7 })).status).toBe(200)
    expect((await s.putJson('/upstreams/d', one(p3))).status).toBe(200)
    // the file changes a (a second server) and b (another server); c and d are not touched
    s.opts.upstreams = { a: one(p1, p2), b: one(p2), c: one(p1) }
    await s.writeConfig()
    const r = await s.send('POST', '/reload')
    expect([r.status, r.body]).toEqual([200, expect.objectContaining({ ok: true })])
    await s.waitReady()
    const check = (ups: Record<string, unknown>) => {
      expect(Object.keys(ups).sort()).toEqual(['a', 'b', 'c', 'd'])
      expect(portsOf(ups['a'])).toEqual([p1, p2]) // file's new version
      expect([portsOf(ups['b']), weightsOf(ups['b'])]).toEqual([[p2], [1]]) // file changed: runtime weight dropped
      expect([portsOf(ups['c']), weightsOf(ups['c'])]).toEqual([[p1], [7]]) // file unchanged: runtime kept
      expect(portsOf(ups['d'])).toEqual([p3]) // created at runtime: stays
    }
    for (const ups of await everyWorker(s)) check(ups)
    const dropped = s.output.split('\n').filter((l) => l.includes('runtime change dropped by the config file'))
    expect(dropped).toHaveLength(1)
    expect(dropped[0]).toContain('"skey":"b"')
    // a restart applies the same rule to the state file: nothing moves
    await s.stop()
    await s.start()
    for (const ups of await everyWorker(s)) check(ups)
    expect(s.output).not.toContain('state file refused')
  }, 180_000)

  it('a reload that fails changes nothing: upstreams, version and state file bytes', async () => {
    const [p1, p2] = backends.ports as [number, number]
    const s = (server = new AdminServer({ workers: 2, upstreams: { a: one(p1) } }))
    await s.start()
    expect((await s.putJson('/upstreams/d', one(p2))).status).toBe(200)
    const before = await everyWorker(s)
    const version = ((await s.get('/status')).body as { shd_config_version: number }).shd_config_version
    const state = readFileSync(s.stateFile)
    // the new config is valid, but its proxy address is taken: the replacement cannot start
    const blocker: Server = createServer()
    await new Promise<void>((res) => blocker.listen(0, H, res))
    const taken = (blocker.address() as { port: number }).port
    s.opts.upstreams = { a: one(p2) }
    const proxyPort = s.proxyPort
    s.proxyPort = taken
    await s.writeConfig()
    s.proxyPort = proxyPort
    try {
      const r = await s.send('POST', '/reload')
      expect([r.status, (r.body as { error: { code: string } }).error.code]).toEqual([500, 'ADM_ERR_RELOAD'])
    } finally {
      await new Promise((res) => blocker.close(res))
    }
    expect(await everyWorker(s)).toEqual(before)
    expect(((await s.get('/status')).body as { shd_config_version: number }).shd_config_version).toBe(version)
    expect(readFileSync(s.stateFile).equals(state)).toBe(true)
  }, 180_000)

  it('a refused reload (invalid config) answers 400 and changes nothing', async () => {
    const [p1] = backends.ports as [number]
    const s = (server = new AdminServer({ workers: 2, upstreams: { a: one(p1) } }))
    await s.start()
    const before = await everyWorker(s)
    s.opts.upstreams = { a: { cluster: [{ servers: [{ host: H, port: 70000 }] }] } }
    await s.writeConfig()
    const r = await s.send('POST', '/reload')
    const e = (r.body as { error: { code: string; message: string } }).error
    expect([r.status, e.code, e.message]).toEqual([400, 'ADM_ERR_RELOAD_REFUSED', expect.stringContaining('(RT_ERR_CONFIG_INVALID)')])
    expect(await everyWorker(s)).toEqual(before)
  }, 180_000)
})
