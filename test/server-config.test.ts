/**
 * apps/server's config boundary and command line, with real processes: `--check` / `-t`
 * (nginx -t), strict input with suggestions, routes whose upstream must exist, JSON config
 * files, the admin API refused off loopback without a token, a refused reload that changes
 * nothing, `--version`, process titles, `primary_pid` in GET /workers and a quiet Ctrl-C.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { freePort, Primary, request } from './fixtures/runtime-harness.js'

const SERVER = fileURLToPath(new URL('../apps/server', import.meta.url))
const RUNTIME_APP = fileURLToPath(new URL('./fixtures/runtime-app.mjs', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'checkups-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const f = join(dir, name)
  writeFileSync(f, text)
  return f
}
function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SERVER, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const API = "api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] }"
const mod = (body: string): string => `export default { global: { default_heartbeat_enable: false }, ${body} }\n`

describe('--check / -t validates the config and exits (nginx -t)', () => {
  it('a valid config: exit 0, nothing started', () => {
    const r = cli(['-t', '--config', file('ok.mjs', mod(`${API}, server: { routes: [{ upstream: 'api' }] }`))])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/syntax is ok\ncheckups: configuration file .*ok\.mjs test is successful\n$/)
  })

  it.each<[string, string, string[], RegExp]>([
    ['a misspelt server option', 'wieght.mjs', [], /^checkups: api\.cluster\[0\]\.servers\[0\]\.wieght: unknown option \(did you mean "weight"\?\)$/m],
    ['a route to a missing upstream', 'route.mjs', [], /^checkups: server\.routes\[0\]\.upstream: no upstream "apii" in the config \(did you mean "api"\?\)$/m],
    ['a misspelt section', 'section.mjs', [], /^checkups: servre: unknown option \(did you mean "server"\?\)$/m],
    ['a misspelt server key', 'serverkey.mjs', [], /^checkups: server\.rotues: unknown option \(did you mean "routes"\?\)$/m],
    ['a bad route prefix', 'prefix.mjs', [], /^checkups: server\.routes\[0\]\.path_prefix: must start with \/$/m],
    ['the admin API off loopback without a token', 'ok2.mjs', ['--admin', '0.0.0.0:9999'], /^checkups: --admin: the admin API on 0\.0\.0\.0 is reachable from other machines .*set server\.admin\.token/m],
    ['a bad zone size', 'zone.mjs', [], /^checkups: server\.shared_dicts\.state: invalid size "lots"$/m],
  ])('%s: exit 1 with the reason', (_name, name, args, message) => {
    const texts: Record<string, string> = {
      'wieght.mjs': mod("api: { cluster: [{ servers: [{ host: '127.0.0.1', port: 1, wieght: 2 }] }] }"),
      'route.mjs': mod(`${API}, server: { routes: [{ upstream: 'apii' }] }`),
      'section.mjs': mod(`${API}, servre: { routes: [] }`),
      'serverkey.mjs': mod(`${API}, server: { rotues: [] }`),
      'prefix.mjs': mod(`${API}, server: { routes: [{ upstream: 'api', path_prefix: 'api' }] }`),
      'ok2.mjs': mod(API),
      'zone.mjs': mod(`${API}, server: { shared_dicts: { state: 'lots' } }`),
    }
    const r = cli(['--check', '--config', file(name, texts[name]!), ...args])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toMatch(/checkups: configuration file test failed\n$/)
  })

  it('the admin API off loopback is accepted with a token', () => {
    const r = cli(['-t', '--admin', '0.0.0.0:9999', '--config', file('token.mjs', mod(`${API}, server: { admin: { token: 'k3y' } }`))])
    expect(r.code).toBe(0)
  })

  it("a JSON config works as a module does; a level's try is accepted with a warning", () => {
    const json = file('upstreams.json', JSON.stringify({ api: { cluster: [{ try: 2, servers: [{ host: '127.0.0.1', port: 1 }] }] }, server: { routes: [{ upstream: 'api' }] } }))
    const r = cli(['-t', '-c', json])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain("checkups: warning: api.cluster[0].try: ignored (lua-resty-checkups ignores a level's try too; set try on the upstream)\n")
    const bad = cli(['-t', '-c', file('proto.json', '{"api":{"cluster":[{"servers":[]}]},"__proto__":{"x":1}}')])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/cannot load config .*proto\.json: forbidden key "__proto__"/)
  })

  it('--version prints the version; a bad --log-level is a command line mistake', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../apps/server/package.json', import.meta.url)), 'utf8')) as { version: string }
    const v = cli(['--version'])
    expect(v.code).toBe(0)
    expect(v.stdout).toBe(`checkups ${pkg.version} (node ${process.version})\n`)
    const bad = cli(['--log-level', 'loud'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"/)
  })
})

describe('running', () => {
  let server: Primary | undefined
  afterEach(async () => {
    await server?.kill()
    server = undefined
  })

  it('a route to a missing upstream is refused before any worker is forked', async () => {
    const f = file('norel.mjs', mod(`${API}, server: { routes: [{ upstream: 'nope' }] }`))
    server = new Primary([SERVER, '--config', f, '--listen', `127.0.0.1:${await freePort()}`, '--admin', `127.0.0.1:${await freePort()}`])
    expect(await server.exited).toEqual({ code: 1, signal: null })
    expect(server.stderr).toBe('checkups: server.routes[0].upstream: no upstream "nope" in the config\n')
    expect(server.find('worker forked')).toBeUndefined()
  })

  it('serves a JSON config; titles, primary_pid, a refused reload changes nothing, Ctrl-C is quiet', async () => {
    const [listen, admin] = [await freePort(), await freePort()]
    const good = { global: { default_heartbeat_enable: false }, api: { cluster: [{ try: 1, servers: [{ host: '127.0.0.1', port: 1 }] }] }, server: { workers: 2, routes: [{ upstream: 'api' }] } }
    const f = file('serve.json', JSON.stringify(good))
    const p = new Primary([SERVER, '--config', f, '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`], {}, { detached: true })
    server = p
    await p.waitLog('all workers ready', undefined, 60_000)
    expect(await p.waitLog('serving')).toMatchObject({ proxy: `http://127.0.0.1:${listen}`, admin: `http://127.0.0.1:${admin}` })
    expect(p.find('config warning')).toMatchObject({ warning: expect.stringMatching(/^api\.cluster\[0\]\.try: ignored/) })

    const rows = (await request(admin, '/workers')).json<Array<{ id: number; pid: number; primary_pid: number }>>()
    expect(rows.map((r) => [r.id, r.primary_pid])).toEqual([[0, p.pid], [1, p.pid]])
    const title = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!
    expect(title(p.pid)).toBe('checkups: primary')
    expect(rows.map((r) => title(r.pid))).toEqual(['checkups: worker 0', 'checkups: worker 1'])

    // a bad reload is refused in the primary: no fork, the same workers keep serving
    writeFileSync(f, JSON.stringify({ ...good, server: { routes: [{ upstream: 'gone' }] } }))
    const from = p.logs.length
    p.signal('SIGHUP')
    expect(await p.waitLog('reload refused: invalid config', undefined, 20_000, from)).toMatchObject({ error: expect.stringContaining('server.routes[0].upstream: no upstream "gone"') })
    expect(p.find('worker forked', () => true, from)).toBeUndefined()
    const after = (await request(admin, '/workers')).json<Array<{ pid: number }>>()
    expect(after.map((r) => r.pid)).toEqual(rows.map((r) => r.pid))

    // Ctrl-C: the terminal signals the whole process group; nothing at warn or above
    const beforeStop = p.logs.length
    process.kill(-p.pid, 'SIGINT')
    expect(await p.exited).toEqual({ code: 0, signal: null })
    // (the refused reload's config repeated the start's warning: its count is flushed at exit)
    expect(p.logs.slice(beforeStop).filter((l) => (l['level'] as number) >= 40 && l.msg !== 'config warning')).toEqual([])
    expect(p.find('primary exiting', () => true, beforeStop)).toBeDefined()
  }, 120_000)

  it('a port in use at start: one error line, exit 1, no respawn', async () => {
    const net = await import('node:net')
    const holder = net.createServer()
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()))
    const busy = (holder.address() as { port: number }).port
    try {
      // the app probes its addresses before forking: one plain line, nothing started
      const f = file('busy.mjs', mod(`${API}, server: { workers: 2, routes: [{ upstream: 'api' }] }`))
      const t0 = Date.now()
      const p = new Primary([SERVER, '--config', f, '--listen', `127.0.0.1:${busy}`, '--admin', `127.0.0.1:${await freePort()}`])
      server = p
      expect(await p.exited).toEqual({ code: 1, signal: null })
      console.log(`[server] port in use: exit 1 after ${Date.now() - t0} ms`)
      expect(p.stderr).toBe(`checkups: cannot listen on 127.0.0.1:${busy}: address already in use\n`)

      // the runtime itself (a port taken after the probe, or any run() script): the workers
      // report it, the primary logs one line, stops them and exits 1 instead of respawning
      const r = new Primary([RUNTIME_APP], { FIXTURE_PORT: String(busy), FIXTURE_WORKERS: '2', CHECKUPS_LOG_LEVEL: 'warn' })
      server = r
      expect(await r.exited).toEqual({ code: 1, signal: null })
      expect(r.logs).toEqual([expect.objectContaining({ level: 60, msg: 'cannot listen', code: 'EADDRINUSE', address: `127.0.0.1:${busy}`, error: `cannot listen on 127.0.0.1:${busy}: address already in use` })])

      // the same, human-readable: one line
      const q = new Primary([RUNTIME_APP], { FIXTURE_PORT: String(busy), FIXTURE_WORKERS: '2', CHECKUPS_LOG_FORMAT: 'pretty' })
      server = q
      expect(await q.exited).toEqual({ code: 1, signal: null })
      const lines = q.stderr.split('\n').filter((l) => /\b(WARN|ERROR|FATAL)\b/.test(l))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/FATAL.*cannot listen/)
      expect(q.stderr).not.toContain('{"level"')
      expect(q.stderr).toMatch(/INFO.*primary started/)
    } finally {
      holder.close()
    }
  }, 120_000)
})
