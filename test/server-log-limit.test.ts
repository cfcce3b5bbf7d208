/**
 * Error logs are rate-limited: 300 requests to an upstream whose only peer refuses
 * connections each fail and log `proxy: ...` at warn, but identical lines collapse — the
 * first of each 5 s window is written, the rest are counted into one `repeated: <n>` line,
 * and the counts add up to the requests exactly.
 */
import http from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, Primary, waitFor } from './fixtures/runtime-harness.js'
import { deadPort } from './fixtures/net.js'

const SERVER = fileURLToPath(new URL('../apps/server', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'checkups-loglimit-'))
let server: Primary | undefined
afterAll(async () => {
  await server?.kill()
  rmSync(dir, { recursive: true, force: true })
})

function get(agent: http.Agent, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/x', agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    }).on('error', reject)
  })
}

describe('rate-limited error logs', () => {
  it('300 identical failures: a few lines whose counts add up to 300', async () => {
    const [dead, listen, admin] = [await deadPort(), await freePort(), await freePort()]
    const file = join(dir, 'dead.config.mjs')
    writeFileSync(file, `export default {
      global: { default_heartbeat_enable: false },
      api: { timeout: 1, cluster: [{ servers: [{ host: '127.0.0.1', port: ${dead} }] }] },
      server: { routes: [{ upstream: 'api' }] },
    }\n`)
    server = new Primary([SERVER, '--config', file, '--workers', '2', '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`])
    await server.waitLog('all workers ready', undefined, 60_000)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    const statuses = new Map<number, number>()
    for (let i = 0; i < 300; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => get(agent, listen)))
      for (const s of batch) statuses.set(s, (statuses.get(s) ?? 0) + 1)
    }
    agent.destroy()
    const failed = [...statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0)
    expect(failed).toBe(300)
    const lines = () => server!.logs.filter((l) => l['event'] === 'proxy_error')
    // a summary line stands for `repeated` suppressed lines; the first line of a window for itself
    const total = () => lines().reduce((a, l) => a + (typeof l['repeated'] === 'number' ? l['repeated'] : 1), 0)
    await waitFor('the summaries', () => (total() === 300 ? true : undefined), 20_000)
    console.log(`[log-limit] 300 failed requests → ${lines().length} proxy_error lines (${JSON.stringify(Object.fromEntries(statuses))})`)
    expect(lines().length).toBeLessThanOrEqual(12)
    expect(lines().some((l) => typeof l['repeated'] === 'number' && l['repeated'] > 1)).toBe(true)
  }, 120_000)
})
