/**
 * A newly elected heartbeat leader probes at once: with checkup_timer_interval 60 s, kill -9
 * the leader right after its first round, and the next leader's probe reaches the backend long
 * before the interval would have run out. Real processes (primary + 3 workers through
 * @checkups/runtime), a real TCP backend counting the probe connections.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, Primary, request, waitFor } from './fixtures/runtime-harness.js'

const APP = fileURLToPath(new URL('./fixtures/runtime-app.mjs', import.meta.url))
const INTERVAL_S = 60

describe('heartbeat takeover', () => {
  let primary: Primary | undefined
  let dir: string
  let backend: Server
  const probes: number[] = []
  const sockets = new Set<Socket>()

  beforeAll(async () => {
    backend = createServer((s) => {
      probes.push(Date.now())
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {})
    })
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r))
    const backendPort = (backend.address() as { port: number }).port
    dir = mkdtempSync(join(tmpdir(), 'checkups-takeover-'))
    const config = join(dir, 'config.mjs')
    writeFileSync(config, `export default ${JSON.stringify({
      global: { checkup_timer_interval: INTERVAL_S, checkup_timer_overtime: 120, default_heartbeat_enable: true },
      api: { typ: 'general', timeout: 1, cluster: [{ servers: [{ host: '127.0.0.1', port: backendPort }] }] },
    })}\n`)
    const port = await freePort()
    primary = new Primary([APP], { FIXTURE_PORT: String(port), FIXTURE_WORKERS: '3', FIXTURE_CONFIG: config })
    await primary.waitLog('all workers ready', undefined, 30_000)
    ;(primary as Primary & { port: number }).port = port
  })

  afterAll(async () => {
    await primary?.kill()
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => backend.close(() => r()))
    rmSync(dir, { recursive: true, force: true })
  })

  it('kill -9 of the leader: the new leader probes at once, not an interval later', async () => {
    const p = primary as Primary & { port: number }
    const leaderOf = async (): Promise<{ leader: boolean; pid: number; id: number } | undefined> => {
      for (let i = 0; i < 12; i++) {
        const l = (await request(p.port, '/leader', { timeout: 3000 })).json<{ leader: boolean; pid: number; id: number }>()
        if (l.leader) return l
      }
      return undefined
    }
    const leader = await waitFor('a heartbeat leader', leaderOf)
    await waitFor('the first round\'s probe', () => probes.length > 0)
    // the first leader's next round is INTERVAL_S away; kill it now
    const before = probes.length
    const killedAt = Date.now()
    process.kill(leader.pid, 'SIGKILL')
    const next = await waitFor('a new leader', async () => {
      const l = await leaderOf()
      return l && l.pid !== leader.pid ? l : undefined
    }, 20_000)
    await waitFor('the new leader\'s probe', () => probes.length > before, 20_000)
    const after = probes[before]! - killedAt
    console.log(`[heartbeat] leader (worker ${leader.id}) killed: worker ${next.id} leads; its probe came ${after} ms after the kill (interval ${INTERVAL_S} s)`)
    // generous bound: far below the interval the old schedule would have waited
    expect(after).toBeLessThan((INTERVAL_S * 1000) / 3)
  })
})
