/**
 * The proxy's options at the app's config boundary: `node apps/server --check` (the primary,
 * before any worker) refuses a bad proxy option with its dotted path and accepts good ones.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const SERVER = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'checkups-proxy-check-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function check(server: Record<string, unknown>, ups: Record<string, unknown> = {}): { code: number | null; out: string } {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.mjs`)
  const config = { global: { default_heartbeat_enable: false }, api: { ...ups, cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] }, server }
  writeFileSync(f, `export default ${JSON.stringify(config)}\n`)
  const r = spawnSync(process.execPath, [SERVER, '--config', f, '--check'], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, out: r.stdout + r.stderr }
}

describe('proxy options at the config boundary (--check)', () => {
  it('accepts every proxy option', () => {
    const r = check({
      headers_timeout: 10, request_timeout: 30, keepalive_timeout: 5, max_connections: 100, max_headers: 50, max_body_size: 1000,
      websocket_idle_timeout: 60, worker_header: true, reuse_port: true, upstream_pipelining: 4, streams: [{ listen: '127.0.0.1:7001', upstream: 'api', idle_timeout: 30 }],
      routes: [{ upstream: 'api', timeouts: { read: 5 }, next_upstream: ['error', 'http_502'], try: 2, max_body_size: 10, request_headers: { set: { 'x-a': '1' } }, redirect: false, allow_trace: true }],
    }, { scheme: 'https', tls: { servername: 'api.internal', reject_unauthorized: true } })
    expect(r.out).not.toMatch(/error/i)
    expect(r.code).toBe(0)
  })

  it.each([
    [{ headers_timeout: 0 }, {}, 'server.headers_timeout'],
    [{ routes: [{ upstream: 'api', next_upstream: ['http_418'] }] }, {}, 'server.routes[0].next_upstream[0]'],
    [{ routes: [{ upstream: 'api', timeouts: { raed: 1 } }] }, {}, 'server.routes[0].timeouts'],
    [{ streams: [{ listen: '127.0.0.1:7002' }] }, {}, 'server.streams[0].upstream'],
    [{ http2: true }, {}, 'server.http2: needs server.tls'],
    [{ reuse_port: 'yes' }, {}, 'server.reuse_port: must be a boolean'],
    [{ upstream_pipelining: 0 }, {}, 'server.upstream_pipelining: must be an integer 1-100'],
    [{ upstream_pipelining: 1.5 }, {}, 'server.upstream_pipelining: must be an integer 1-100'],
    [{}, { scheme: 'ftp' }, 'api.scheme'],
    [{}, { tls: { ca: '' } }, 'api.tls.ca'],
  ])('refuses %j %j naming %s', (server, ups, where) => {
    const r = check(server, ups)
    expect(r.code).toBe(1)
    expect(r.out).toContain(where)
  })
})
