// The state file of dynamic upstreams across restarts and reloads: restored when it
// belongs to the config; refused — logged, kept aside byte for byte, never deleted — when it is
// corrupt, or (written without runtime-change records) from another config; `--state FILE` moves it; a reload (SIGHUP) keeps the
// dynamic upstreams. Real `node apps/server` processes; nothing mocked.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AdminServer, startBackends } from './fixtures/admin-server.js'

let backends: Awaited<ReturnType<typeof startBackends>>
let server: AdminServer | undefined

const srv = (port: number) => ({ host: '127.0.0.1', port })
const portsOf = (ups: unknown): number[] =>
  ((ups as { cluster: Array<{ servers: Array<{ port: number }> }> }).cluster[0]?.servers ?? []).map((s) => s.port)
const rejected = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.checkups-state.json.rejected-'))

function newServer(args: string[] = []): AdminServer {
  server = new AdminServer({ workers: 2, upstreams: { api: { cluster: [{ servers: [srv(backends.ports[0]!)] }] } }, args })
  return server
}

beforeAll(async () => {
  backends = await startBackends(2)
})
afterEach(async () => {
  await server?.dispose()
  server = undefined
})
afterAll(async () => {
  await backends?.close()
})

describe('state file', () => {
  it('a corrupt state file is refused with a log line, kept aside, and the config is used', async () => {
    const s = newServer()
    await s.writeConfig()
    const garbage = '{"format":1,"conf_hash":"x","version":3,"upstreams":{"api":'
    writeFileSync(s.stateFile, garbage)
    await s.start()
    expect(s.output).toContain('state file refused, starting from the config')
    expect(s.output).toMatch(/"code":"CKP_ERR_STATE_FILE"/)
    expect(existsSync(s.stateFile)).toBe(false)
    const aside = rejected(s.dir)
    expect(aside).toHaveLength(1)
    expect(readFileSync(join(s.dir, aside[0]!), 'utf8')).toBe(garbage)
    for (const r of (await s.eachWorker('GET', '/upstreams')).values()) {
      expect(Object.keys(r.body as object)).toEqual(['api'])
    }
  }, 180_000)

  it('a state file without runtime-change records, of another config, is refused after the config changed', async () => {
    const s = newServer()
    await s.start()
    expect((await s.putJson('/upstreams/dyn', { cluster: [{ servers: [srv(backends.ports[1]!)] }] })).status).toBe(200)
    await s.stop()
    // a file as older versions wrote it: no origin/deleted, so only its conf_hash ties it to a config
    const legacy = JSON.parse(readFileSync(s.stateFile, 'utf8')) as Record<string, unknown>
    delete legacy['origin']
    delete legacy['deleted']
    const written = Buffer.from(JSON.stringify(legacy))
    writeFileSync(s.stateFile, written)
    // another config: the static upstream points elsewhere, so conf_hash differs
    s.opts.upstreams = { api: { cluster: [{ servers: [srv(backends.ports[1]!)] }] } }
    await s.writeConfig()
    await s.start()
    expect(s.output).toContain('state file refused, starting from the config')
    expect(s.output).toContain('written for another config')
    const aside = rejected(s.dir)
    expect(aside).toHaveLength(1)
    expect(readFileSync(join(s.dir, aside[0]!)).equals(written)).toBe(true)
    for (const r of (await s.eachWorker('GET', '/upstreams/dyn')).values()) expect(r.status).toBe(404)
  }, 180_000)

  it('a current state file after the config changed: the runtime-created upstream stays, the changed one is the file\'s', async () => {
    const s = newServer()
    await s.start()
    expect((await s.putJson('/upstreams/dyn', { cluster: [{ servers: [srv(backends.ports[1]!)] }] })).status).toBe(200)
    await s.stop()
    s.opts.upstreams = { api: { cluster: [{ servers: [srv(backends.ports[1]!)] }] } }
    await s.writeConfig()
    await s.start()
    expect(s.output).not.toContain('state file refused')
    expect(rejected(s.dir)).toEqual([])
    for (const r of (await s.eachWorker('GET', '/upstreams')).values()) {
      const ups = r.body as Record<string, unknown>
      expect([portsOf(ups['api']), portsOf(ups['dyn'])]).toEqual([[backends.ports[1]], [backends.ports[1]]])
    }
  }, 180_000)

  it('--state FILE moves the state file; a planned restart restores from it', async () => {
    const s = newServer()
    const custom = join(s.dir, 'elsewhere', 'state.json')
    s.opts.args = ['--state', custom]
    await s.start()
    expect((await s.putJson('/upstreams/dyn', { cluster: [{ servers: [srv(backends.ports[1]!)] }] })).status).toBe(200)
    expect(existsSync(custom)).toBe(true)
    expect(existsSync(s.stateFile)).toBe(false)
    await s.stop()
    await s.start()
    expect(s.output).toContain('dynamic upstreams restored from state file')
    for (const r of (await s.eachWorker('GET', '/upstreams/dyn')).values()) {
      expect(portsOf(r.body)).toEqual([backends.ports[1]])
    }
  }, 180_000)

  it('a reload (SIGHUP) with the same config keeps the dynamic upstreams and deletions', async () => {
    const s = newServer()
    await s.start()
    expect((await s.putJson('/upstreams/dyn', { cluster: [{ servers: [srv(backends.ports[1]!)] }] })).status).toBe(200)
    expect((await s.send('DELETE', '/upstreams/api')).status).toBe(200)
    const before = (await s.get('/upstreams')).body
    s.signal('SIGHUP')
    await s.waitOutput('reload done')
    await s.waitReady()
    for (const r of (await s.eachWorker('GET', '/upstreams')).values()) expect(r.body).toEqual(before)
  }, 180_000)
})
