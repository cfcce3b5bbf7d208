/**
 * `node apps/server` as users run it: --help, config errors, and a real start (primary +
 * workers) answering the admin API.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { freePort, Primary, request } from './fixtures/runtime-harness.js'

const SERVER = fileURLToPath(new URL('../apps/server', import.meta.url))
const BUNDLED = fileURLToPath(new URL('../apps/server/checkups.config.js', import.meta.url))
const CONFIG = fileURLToPath(new URL('./fixtures/runtime-server-config.mjs', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'checkups-cli-'))

function cli(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SERVER, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('apps/server command line', () => {
  it('--help prints the usage and exits 0', () => {
    const r = cli(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Usage: node apps\/server/)
    for (const opt of ['--config FILE', '--workers N', '--listen HOST:PORT', '--admin HOST:PORT', '--state FILE', 'CHECKUPS_CONFIG', 'CHECKUPS_WORKERS']) {
      expect(r.stdout).toContain(opt)
    }
  })

  it.each([
    [['--config', '/nonexistent/checkups.js'], {}],
    [[], { CHECKUPS_CONFIG: '/nonexistent/checkups.js' }],
  ])('a missing config file (%j %j) is a clear error, exit 1', (args, env) => {
    const r = cli(args, env)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('checkups: config file not found: /nonexistent/checkups.js\n')
  })

  it.each([
    ['syntax.mjs', 'export default {{', /^checkups: cannot load config .*syntax\.mjs: /],
    ['not-object.mjs', 'export default 42', /^checkups: config .*not-object\.mjs: the default export must be the config object/],
    ['bad-listen.mjs', "export default { server: { listen: 'nowhere' } }", /^checkups: server\.listen: expected HOST:PORT, got "nowhere"/],
  ])('an invalid config file (%s) is a clear error, exit 1', (name, text, message) => {
    const file = join(dir, name)
    writeFileSync(file, text)
    const r = cli(['--config', file])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(message)
  })

  it.each([
    [['--workers', '0'], /--workers: expected a number of workers 1\.\.1024, got "0"/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['stray'], /Unexpected argument 'stray'/],
  ])('a bad command line (%j) exits 2', (args, message) => {
    const r = cli(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })
})

describe('apps/server running', () => {
  let server: Primary | undefined

  afterEach(async () => {
    await server?.kill()
    server = undefined
  })

  async function start(args: string[], env: Record<string, string> = {}): Promise<{ s: Primary; admin: number }> {
    const admin = await freePort()
    const listen = await freePort()
    const s = new Primary([SERVER, '--admin', `127.0.0.1:${admin}`, '--listen', `127.0.0.1:${listen}`, ...args], env)
    server = s
    await s.waitLog('all workers ready', undefined, 30_000)
    return { s, admin }
  }

  it('serves the admin API from every worker; errors have the { error } shape; SIGTERM exits 0', async () => {
    const { s, admin } = await start(['--config', CONFIG, '--workers', '3'])
    const ids = new Set<string>()
    for (let i = 0; i < 100 && ids.size < 3; i++) {
      const a = await request(admin, '/workers')
      expect(a.status).toBe(200)
      expect(a.headers['content-type']).toBe('application/json')
      ids.add(String(a.headers['x-checkups-worker']))
      expect(a.json<{ id: number }[]>().map((r) => r.id)).toEqual([0, 1, 2])
    }
    expect([...ids].sort()).toEqual(['0', '1', '2'])

    const missing = await request(admin, '/nope')
    expect(missing.status).toBe(404)
    expect(missing.headers['x-checkups-worker']).toMatch(/^[0-2]$/)
    expect(missing.json()).toEqual({ error: { code: 'ADM_ERR_NOT_FOUND', message: 'no such endpoint: GET /nope' } })
    const wrongMethod = await request(admin, '/workers', { method: 'POST', body: '{}' })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.json().error.code).toBe('ADM_ERR_METHOD_NOT_ALLOWED')

    s.signal('SIGTERM')
    expect(await s.exited).toEqual({ code: 0, signal: null })
  })

  it('runs the bundled config when none is given; CHECKUPS_WORKERS sets the worker count', async () => {
    const { s, admin } = await start([], { CHECKUPS_WORKERS: '2' })
    expect(s.find('primary started')).toMatchObject({ workers: 2, config: `file://${BUNDLED}` })
    const rows = (await request(admin, '/workers')).json<{ id: number }[]>()
    expect(rows.map((r) => r.id)).toEqual([0, 1])
  })

  it('with server.admin.token, requests without the bearer token get 401', async () => {
    const { admin } = await start(['--config', CONFIG], { SERVER_FIXTURE_TOKEN: 's3cret' })
    const denied = await request(admin, '/workers')
    expect(denied.status).toBe(401)
    expect(denied.headers['x-checkups-worker']).toMatch(/^[01]$/)
    expect(denied.json().error.code).toBe('ADM_ERR_UNAUTHORIZED')
    const allowed = await request(admin, '/workers', { headers: { authorization: 'Bearer s3cret' } })
    expect(allowed.status).toBe(200)
    expect(allowed.json()).toHaveLength(2)
  })
})
