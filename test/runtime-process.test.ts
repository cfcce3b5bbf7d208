/**
 * @checkups/runtime with real processes: a primary with 4 workers (test/fixtures/runtime-app.mjs)
 * on a free loopback port. Ids, respawn after kill -9 (with the dead pid's zone lock released),
 * reload under load, refused reload.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort, Primary, request, waitFor } from './fixtures/runtime-harness.js'

const APP = fileURLToPath(new URL('./fixtures/runtime-app.mjs', import.meta.url))
const CONFIG = fileURLToPath(new URL('./fixtures/runtime-config.mjs', import.meta.url))

interface Who { id: number; pid: number }
interface Row { id: number; pid: number; started: string; restarts: number; state: string }

describe('runtime: primary with 4 workers', () => {
  let primary: Primary
  let port: number
  let dir: string
  let config: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-rt-'))
    config = join(dir, 'config.mjs')
    copyFileSync(CONFIG, config)
    port = await freePort()
    primary = new Primary([APP], { FIXTURE_PORT: String(port), FIXTURE_WORKERS: '4', FIXTURE_CONFIG: config })
    await primary.waitLog('all workers ready', undefined, 30_000)
  })

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(primary.logs.slice(-40).map((l) => JSON.stringify(l)).join('\n'))
  })

  afterAll(async () => {
    await primary?.kill()
    rmSync(dir, { recursive: true, force: true })
  })

  const workers = async (): Promise<Row[]> => (await request(port, '/workers')).json<Row[]>()
  const ready = (rows: Row[]): Row[] => rows.filter((r) => r.state === 'ready')

  it('answers from 4 distinct worker ids, each on a new connection', async () => {
    const seen = new Map<number, number>()
    for (let i = 0; i < 200 && seen.size < 4; i++) {
      const a = await request(port, '/whoami')
      const who = a.json<Who>()
      expect(a.headers['x-checkups-worker']).toBe(String(who.id))
      seen.set(who.id, who.pid)
    }
    expect([...seen.keys()].sort()).toEqual([0, 1, 2, 3])
    expect(new Set(seen.values()).size).toBe(4)
    // init(ctx) ran in the primary, before the fork, on the same zone
    expect((await request(port, '/get?key=from-init')).json()).toEqual({ value: `primary ${primary.pid}` })
    const rows = await workers()
    expect(rows.map((r) => r.id)).toEqual([0, 1, 2, 3])
    for (const r of rows) {
      expect(r.pid).toBe(seen.get(r.id))
      expect(r.restarts).toBe(0)
      expect(r.state).toBe('ready')
      expect(Number.isNaN(Date.parse(r.started))).toBe(false)
    }
  })

  it('kill -9: the same id answers from a new pid, and the dead pid\'s zone lock is released', async () => {
    const locked = (await request(port, '/lock', { method: 'POST' })).json<{ taken: boolean; owner: number; pid: number }>()
    expect(locked.taken).toBe(true)
    expect(locked.owner).toBe(locked.pid)
    const victim = (await workers()).find((r) => r.pid === locked.pid)!
    const logFrom = primary.logs.length

    const t0 = Date.now()
    process.kill(victim.pid, 'SIGKILL')
    const answered = await waitFor('an answer from the respawned worker', async () => {
      const who = (await request(port, '/whoami', { timeout: 3000 })).json<Who>()
      return who.id === victim.id && who.pid !== victim.pid ? who : undefined
    }, 30_000, 10)
    const answerMs = Date.now() - t0
    const readyLine = await primary.waitLog('worker ready', (l) => l['id'] === victim.id, 30_000, logFrom)
    console.log(`[runtime] kill -9 worker ${victim.id}: respawned pid ${answered.pid} answered after ${answerMs} ms (worker start ${String(readyLine['startMs'])} ms)`)
    // how fast is a benchmark's business (timings never decide a test); this bounds liveness only

    const unlocked = primary.find('zone lock released from dead worker', (l) => l['deadPid'] === victim.pid, logFrom)
    expect(unlocked).toMatchObject({ zone: 'app', id: victim.id, worker: 'primary' })
    expect(primary.find('worker crashed', (l) => l['workerPid'] === victim.pid, logFrom)).toMatchObject({ signal: 'SIGKILL' })
    expect((await request(port, '/lock-owner')).json()).toEqual({ owner: 0 })
    expect((await request(port, '/set?key=after-kill&value=ok')).json()).toMatchObject({ ok: true })
    expect((await request(port, '/get?key=after-kill')).json()).toEqual({ value: 'ok' })

    const rows = ready(await workers())
    expect(rows.map((r) => r.id)).toEqual([0, 1, 2, 3])
    expect(rows.find((r) => r.id === victim.id)).toMatchObject({ pid: answered.pid, restarts: 1 })
  })

  it('kill -9 of the heartbeat leader: the primary releases its lease, another worker leads', async () => {
    const leaderOf = async (): Promise<{ leader: boolean; pid: number; id: number } | undefined> => {
      for (let i = 0; i < 40; i++) {
        const l = (await request(port, '/leader', { timeout: 3000 })).json<{ leader: boolean; pid: number; id: number }>()
        if (l.leader) return l
      }
      return undefined
    }
    const leader = await waitFor('a heartbeat leader', leaderOf)
    const logFrom = primary.logs.length
    const t0 = Date.now()
    process.kill(leader.pid, 'SIGKILL')
    const next = await waitFor('a new leader', async () => {
      const l = await leaderOf()
      return l && l.pid !== leader.pid ? l : undefined
    }, 15_000, 10)
    console.log(`[runtime] heartbeat leader (worker ${leader.id}) killed: worker ${next.id} leads after ${Date.now() - t0} ms`)
    expect(primary.find('heartbeat lease released from dead worker', (l) => l['deadPid'] === leader.pid, logFrom)).toBeDefined()
    await waitFor('all 4 ready again', async () => ((await workers()).filter((r) => r.state === 'ready').length === 4 ? true : undefined))
  })

  it('SIGHUP under a steady stream of requests: zero failures, new pids, zone contents kept', async () => {
    expect((await request(port, '/set?key=kept&value=before-reload')).json()).toMatchObject({ ok: true })
    const before = ready(await workers())
    const logFrom = primary.logs.length
    let ok = 0
    const failures: string[] = []
    let running = true
    const loop = async (): Promise<void> => {
      while (running) {
        try {
          const a = await request(port, '/whoami')
          if (a.status === 200) ok++
          else failures.push(`status ${a.status}`)
        } catch (err) {
          failures.push(String(err))
        }
      }
    }
    const loops = [loop(), loop()]
    await waitFor('some traffic', () => ok > 20 || undefined)
    const t0 = Date.now()
    primary.signal('SIGHUP')
    const done = await primary.waitLog('reload done', undefined, 120_000, logFrom)
    const reloadMs = Date.now() - t0
    const okAtReload = ok
    await waitFor('traffic after reload', () => ok > okAtReload + 20 || undefined)
    running = false
    await Promise.all(loops)
    console.log(`[runtime] reload of 4 workers took ${reloadMs} ms (primary: ${String(done['ms'])} ms); ${ok} requests, ${failures.length} failed`)
    expect(failures).toEqual([])

    const after = await waitFor('old workers gone', async () => {
      const rows = await workers()
      return rows.every((r) => r.state === 'ready') ? rows : undefined
    })
    expect(after.map((r) => r.id)).toEqual([0, 1, 2, 3])
    for (const r of after) expect(before.map((b) => b.pid)).not.toContain(r.pid)
    expect((await request(port, '/get?key=kept')).json()).toEqual({ value: 'before-reload' })
    expect(primary.child.exitCode).toBe(null)
  }, 180_000)

  it('SIGHUP with a broken config: refused with a log line, the old workers keep serving', async () => {
    const before = ready(await workers())
    const firstLog = primary.logs.length
    for (const [broken, code] of [
      ['export default {{ syntax error', 'RT_ERR_CONFIG_LOAD'],
      ['export default 42', 'RT_ERR_CONFIG_INVALID'],
      ["export default { api: { mode: 'bogus', cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] } }", 'RT_ERR_CONFIG_INVALID'],
    ] as const) {
      writeFileSync(config, broken)
      const logFrom = primary.logs.length
      primary.signal('SIGHUP')
      const refused = await primary.waitLog('reload refused: invalid config', undefined, 20_000, logFrom)
      expect(refused).toMatchObject({ worker: 'primary', code, level: 50 })
      expect(String(refused['error'])).toContain(config)
    }
    const seen = new Set<number>()
    for (let i = 0; i < 100 && seen.size < 4; i++) seen.add((await request(port, '/whoami')).json<Who>().pid)
    expect([...seen].sort()).toEqual(before.map((r) => r.pid).sort())
    expect(await workers()).toEqual(before)
    expect(primary.find('worker forked', undefined, firstLog)).toBeUndefined()
    copyFileSync(CONFIG, config)
  })
})
