/**
 * Graceful stop (SIGQUIT) and fast stop (SIGTERM) of a real primary
 * (test/fixtures/runtime-app.mjs with 2 workers).
 */
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, Primary, request, waitFor } from './fixtures/runtime-harness.js'

const APP = fileURLToPath(new URL('./fixtures/runtime-app.mjs', import.meta.url))

describe('runtime: stopping', () => {
  let primary: Primary | undefined

  afterEach(async () => {
    await primary?.kill()
    primary = undefined
  })

  async function start(): Promise<{ p: Primary; port: number }> {
    const port = await freePort()
    const p = new Primary([APP], { FIXTURE_PORT: String(port), FIXTURE_WORKERS: '2' })
    primary = p
    await p.waitLog('all workers ready', undefined, 30_000)
    return { p, port }
  }

  it('SIGQUIT during a slow request: the request completes, then the primary exits 0', async () => {
    const { p, port } = await start()
    const slow = request(port, '/slow?ms=1500')
    let answeredAt = 0
    void slow.then(() => (answeredAt = Date.now()))
    await new Promise((r) => setTimeout(r, 300)) // the request is in flight in a worker
    const t0 = Date.now()
    p.signal('SIGQUIT')
    await p.waitLog('worker closing', undefined, 5000)
    await expect(request(port, '/whoami', { timeout: 2000 })).rejects.toThrow() // listeners closed
    const answer = await slow
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ slow: true })
    const exit = await p.exited
    const exitedAt = Date.now()
    console.log(`[runtime] SIGQUIT: slow request answered ${answeredAt - t0} ms after the signal, primary exited after ${exitedAt - t0} ms`)
    expect(exit).toEqual({ code: 0, signal: null })
    expect(exitedAt).toBeGreaterThanOrEqual(answeredAt)
    expect(p.find('worker exited', (l) => l['code'] === 0)).toBeDefined()
    expect(p.find('worker crashed')).toBeUndefined()
    expect(p.find('primary exiting')).toMatchObject({ code: 0 })
  })

  it('SIGTERM: workers exit at once, the primary exits 0', async () => {
    const { p, port } = await start()
    expect((await request(port, '/whoami')).status).toBe(200)
    p.signal('SIGTERM')
    expect(await p.exited).toEqual({ code: 0, signal: null })
    expect(p.logs.filter((l) => l.msg === 'worker exited')).toHaveLength(2)
    expect(p.find('worker crashed')).toBeUndefined()
    await waitFor('workers gone', () => [...p.pids].every((pid) => !alive(pid)) || undefined, 5000)
  })
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
