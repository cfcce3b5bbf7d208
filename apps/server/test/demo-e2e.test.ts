/**
 * `node apps/server` with demo backends: the backends start with the workers, after the
 * heartbeat's first round; the leader re-checks once they listen (Checkups.checkNow), so the
 * demo peers are `ok` in /status long before the next scheduled round (interval 60 s here).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../../test/fixtures/net.js'
import { afterAll, describe, expect, it } from 'vitest'

const entry = fileURLToPath(new URL('../index.js', import.meta.url))
let proc: ChildProcess | undefined
let dir = ''


afterAll(() => {
  if (proc?.pid !== undefined && proc.exitCode === null) proc.kill('SIGKILL')
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('demo backends through the real runtime', () => {
  it('the demo peers are ok right after start, not one interval later', async () => {
    const [proxy, admin, d1, d2] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
    dir = mkdtempSync(join(tmpdir(), 'checkups-demo-e2e-'))
    const servers = [d1, d2].map((port) => ({ host: '127.0.0.1', port, max_fails: 3 }))
    const config = {
      global: { checkup_timer_interval: 60 },
      demo: { typ: 'general', timeout: 2, cluster: [{ servers }] },
      server: {
        listen: `127.0.0.1:${proxy}`, admin: { listen: `127.0.0.1:${admin}` },
        routes: [{ path_prefix: '/', upstream: 'demo' }],
        demo: { backends: [`127.0.0.1:${d1}`, `127.0.0.1:${d2}`] },
      },
    }
    const file = join(dir, 'checkups.config.mjs')
    writeFileSync(file, `export default ${JSON.stringify(config)}\n`)
    let output = ''
    proc = spawn(process.execPath, [entry, '--config', file, '--workers', '2', '--state', join(dir, 'state.json')], { stdio: ['ignore', 'pipe', 'pipe'] })
    proc.stdout?.on('data', (c: Buffer) => (output += c))
    proc.stderr?.on('data', (c: Buffer) => (output += c))
    let statuses: string[] = []
    const deadline = Date.now() + 30_000 // half the interval: only the re-check can make them ok
    while (Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${admin}/status`).catch(() => undefined)
      if (res?.ok) {
        const body = (await res.json()) as { 'cls:demo': Array<Array<{ status: string }>>; last_check_time: string | null }
        statuses = body['cls:demo'].flat().map((p) => p.status)
        if (body.last_check_time !== null && statuses.every((s) => s === 'ok')) break
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(statuses, output).toEqual(['ok', 'ok'])
    const res = await fetch(`http://127.0.0.1:${proxy}/`)
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    proc.kill('SIGTERM')
    const code = await new Promise((resolve) => proc!.once('exit', resolve))
    expect(code).toBe(0)
  })
})
