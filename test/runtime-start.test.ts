/**
 * Worker start: back-off for a worker that keeps failing its start, and an object config
 * handed to the workers over IPC (test/fixtures/runtime-app.mjs, 2 workers).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { freePort, Primary, request, waitFor } from './fixtures/runtime-harness.js'

const APP = fileURLToPath(new URL('./fixtures/runtime-app.mjs', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'checkups-rt-start-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('runtime: worker start', () => {
  let primary: Primary | undefined

  afterEach(async () => {
    await primary?.kill()
    primary = undefined
  })

  it('a worker that fails its start is respawned with a doubling delay; the others serve meanwhile', async () => {
    const marker = join(dir, 'crash-1')
    writeFileSync(marker, '')
    const port = await freePort()
    const p = (primary = new Primary([APP], { FIXTURE_PORT: String(port), FIXTURE_WORKERS: '2', FIXTURE_CRASH_ID: '1', FIXTURE_CRASH_FILE: marker }))
    const respawns = await waitFor('4 respawns of worker 1', () => {
      const lines = p.logs.filter((l) => l.msg === 'worker respawn scheduled' && l['id'] === 1)
      return lines.length >= 4 ? lines : undefined
    }, 60_000)
    expect(respawns.slice(0, 4).map((l) => l['delayMs'])).toEqual([100, 200, 400, 800])
    expect(p.find('worker start failed', (l) => l.worker === 1)).toMatchObject({ level: 60, err: { message: 'worker 1 told to fail its start' } })
    expect(p.find('worker crashed', (l) => l['id'] === 1)).toMatchObject({ code: 1, state: 'starting' })
    expect(p.find('all workers ready')).toBeUndefined()
    expect((await request(port, '/whoami')).json()).toMatchObject({ id: 0 }) // worker 0 serves meanwhile

    rmSync(marker)
    await p.waitLog('all workers ready', undefined, 30_000)
    const rows = (await request(port, '/workers')).json<{ id: number; restarts: number; state: string }[]>()
    expect(rows.map((r) => [r.id, r.state])).toEqual([[0, 'ready'], [1, 'ready']])
    expect(rows[0]!.restarts).toBe(0)
    expect(rows[1]!.restarts).toBeGreaterThanOrEqual(4)
  })

  it('an object config reaches the workers as JSON over IPC', async () => {
    const port = await freePort()
    const p = (primary = new Primary([APP], { FIXTURE_PORT: String(port), FIXTURE_WORKERS: '2', FIXTURE_OBJECT_CONFIG: '1' }))
    await p.waitLog('all workers ready', undefined, 30_000)
    expect(p.find('primary started')).toMatchObject({ config: '(object)', workers: 2 })
    for (let i = 0; i < 4; i++) {
      expect((await request(port, '/config')).json()).toEqual({ upstreams: ['api'], rawKeys: ['global', 'api', 'objectMarker'] })
    }
  })
})
